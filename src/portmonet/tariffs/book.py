"""What the core may ask of the tariffs feature without importing it: the
utility ``ITariffBook`` (registered by ``includeme``), found with
``registry.queryUtility(ITariffBook)``; None in a deployment without tariffs."""
from zope.interface import implementer

from .. import events
from ..interfaces import ITariffBook
from .assign import change_tariff
from .loader import install, parse_document


@implementer(ITariffBook)
class TariffBook:

    def change(self, root, service, tariff, user="", next_period=False):
        effective = change_tariff(service, tariff, next_period=next_period)
        events.notify(events.ServiceChanged(root, service, "tariff", effective, user))
        return effective

    def install(self, root, document):
        return install(root, parse_document(document))


BOOK = TariffBook()
