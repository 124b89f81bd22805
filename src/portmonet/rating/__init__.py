"""Rating: usage records (sessions, traffic, calls, content) into charges,
once each, by the ``portmonet rate`` worker."""
