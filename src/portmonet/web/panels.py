"""Panels: the blocks features add to the subscriber card, the contract
page and the office home (``config.add_panel``)."""


def includeme(config):
    pass
