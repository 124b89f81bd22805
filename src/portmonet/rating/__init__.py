"""Rating: usage records (sessions, traffic, calls, content) into charges,
once each, by the ``portmonet rate`` worker."""


def includeme(config):
    """Its views and pages (``config.scan``)."""
    config.scan(ignore=[".tests"])
