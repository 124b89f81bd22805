"""The web process: employees' workplace and subscribers' office.

This package holds the shared web machinery; features keep their own views
in their packages, found by ``config.scan()``.
"""


def includeme(config):
    config.add_static_view("static", "portmonet:web/static", cache_max_age=3600)
