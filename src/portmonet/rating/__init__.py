"""Rating: usage records (sessions, traffic, calls, content) into charges,
once each, by the ``portmonet rate`` worker."""


def includeme(config):
    """Its views and pages (``config.scan``), the calls panel."""
    config.include(".panels")
    config.scan(ignore=[".tests"])
