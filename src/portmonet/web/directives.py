"""The configuration directives features use from their ``includeme``:
``add_panel`` and ``add_link`` (:mod:`.panels`) and ``add_wsgi_filter``.
Every process includes this first (``portmonet.features``)."""


def add_wsgi_filter(config, wrap):
    """``config.add_wsgi_filter(wrap)``: a feature puts a WSGI filter in
    front of the Pyramid application, for a machine protocol that needs none
    of Pyramid's per-request machinery (the payments' OSMP gate); *wrap* is
    ``(app, registry) -> app`` (or its dotted name)."""
    wrap = config.maybe_dotted(wrap)
    filters = config.registry.__dict__.setdefault("pm_wsgi_filters", [])
    if wrap not in filters:
        filters.append(wrap)


def includeme(config):
    config.include(".panels")
    config.add_directive("add_wsgi_filter", add_wsgi_filter)
