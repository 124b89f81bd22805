"""Marker interfaces of the payments feature (views bind to these)."""
from zope.interface import Interface


class IPayments(Interface):
    """``/payments``: agents, providers, journal, bank, cash desk, cards."""


class IAgent(Interface):
    """A payment agent or terminal network speaking a check/pay protocol."""


class IOsmpAgent(IAgent):
    """An agent speaking the OSMP check/pay protocol (``<agent>/osmp``)."""


class IProvider(IAgent):
    """A card gateway / e-money / SMS aggregator using the signed JSON callback API."""


class IJournal(Interface):
    """The raw request journal."""


class IBank(Interface):
    """Bank statements and the suspense queue of unmatched payments."""


class ICashDesk(Interface):
    """The cash desk: shifts, receipts, refunds and corrections."""


class ICards(Interface):
    """Prepaid (scratch) card batches."""
