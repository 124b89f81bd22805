"""Tariffs: versioned plans (fees, Internet, telephony, TV), loaded from
YAML/TOML/JSON by ``portmonet import tariffs`` and used by the rater and
the billing run."""


def includeme(config):
    """Its views and pages (``config.scan``)."""
    config.scan(ignore=[".tests"])
