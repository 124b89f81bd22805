"""RADIUS: authorization and accounting for NASes, CoA and Disconnect.

``portmonet radius`` (see :mod:`.server`) answers Access-Requests from the
NAS registry (:mod:`.nas`) with the policy of :mod:`.policy`, records
accounting in sessions (:mod:`.sessions`, :mod:`.accounting`) and carries out
the outbox channel ``radius`` (:mod:`.coa`).
"""
import os

from ..web.i18n import _
from ..web.navigation import service_view, under

DICTIONARY_DIR = os.path.join(os.path.dirname(__file__), "dictionaries")
DICTIONARY = os.path.join(DICTIONARY_DIR, "dictionary")

_dictionary = None


def dictionary():
    """The project's dictionary (parsed once per process)."""
    global _dictionary
    if _dictionary is None:
        from pyrad.dictionary import Dictionary
        _dictionary = Dictionary(DICTIONARY)
    return _dictionary


def includeme(config):
    """Its views and pages, its panels (:mod:`.panels`) and links, and the
    outbox messages it owes the NASes when a service loses or gets back its
    access (:mod:`.subscribers`)."""
    config.include(".subscribers")
    config.include(".panels")
    config.add_link("nav", "online", _("Online"), under("@@sessions"), order=10)
    config.add_link("service", "kick", _("Kick session"), service_view("kick", ("internet",)),
                    order=30, permission="block", method="post")
    config.scan(ignore=[".tests"])
