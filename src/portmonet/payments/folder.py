"""``/payments``: the agents and providers, and the payment machinery.

Agents and providers are the folder's children (``/payments/<name>``); the
journal, register, bank, cash desk, cards and wallets are attributes that
traversal also reaches by their reserved names.
"""
from zope.interface import implementer

from ..model.folder import Folder, FolderKeyError
from .interfaces import IPayments

PARTS = ("journal", "register", "bank", "cashdesk", "cards", "wallets")


@implementer(IPayments)
class Payments(Folder):
    title = "Payments"

    def __init__(self):
        super().__init__()
        self.install_parts()

    def install_parts(self):
        """Create the parts missing (idempotent: evolve steps call it)."""
        from .bank import Bank
        from .cards import Cards
        from .cashdesk import CashDesk
        from .journal import Journal
        from .register import Register
        from .wallet import Wallets
        made = []
        for name, factory in (("journal", Journal), ("register", Register), ("bank", Bank),
                              ("cashdesk", CashDesk), ("cards", Cards), ("wallets", Wallets)):
            if getattr(self, name, None) is None:
                part = factory()
                part.__name__ = name
                part.__parent__ = self
                setattr(self, name, part)
                made.append(name)
        return made

    def __getitem__(self, name):
        if name in PARTS and getattr(self, name, None) is not None:
            return getattr(self, name)
        return super().__getitem__(name)

    def add(self, name, child):
        if name in PARTS:
            raise FolderKeyError(f"{name!r} is a reserved name under /payments")
        return super().add(name, child)

    def agents(self, protocol=None):
        return [a for a in self.values() if protocol is None or a.protocol == protocol]

    def add_agent(self, agent, catalog):
        self.add(agent.name, agent)
        agent.open_account(catalog)
        return agent
