"""Tariffs: versioned plans (fees, Internet, telephony, TV), loaded from
YAML/TOML/JSON by ``portmonet import tariffs`` and used by the rater and
the billing run."""
