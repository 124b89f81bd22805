"""Domain events: what happened to a service, a contract, a payment or an
invoice, told to whoever subscribed (``config.add_subscriber(func, IEvent)``
in a feature's ``includeme``).

Fired with :func:`notify` through the process's Pyramid registry (the
machinery Pyramid and Substance D use for ``ObjectAdded``), inside the
transaction that took the decision.  A subscriber only *records* what must
happen (an outbox message, a usage record) in that same transaction; the
effect happens after commit through the outbox, so a retried transaction
acts once.  A subscriber that raises aborts the whole decision: the caller's
transaction fails with it, and nothing of the decision is kept.

A feature declares its own events the same way: an interface with its
fields, a class that implements it, and ``notify(MyEvent(...))``.
"""
from zope.interface import Attribute, Interface, implementer

from .features import current_registry
from .model.lineage import find_root

# Why a service lost (or got back) its access.
DEBT = "debt"                # debt control: the balance went below the limit
SUSPENSION = "suspension"    # an employee suspended the service or the contract
QUOTA = "quota"              # a traffic or spending quota ran out
OUTAGE = "outage"            # the operator took the service down
REASONS = (DEBT, SUSPENSION, QUOTA, OUTAGE)


class IDomainEvent(Interface):
    root = Attribute("The application root of the decision (its outbox, catalog).")
    user = Attribute("Who decided: a staff login or a process name ('portmonet bill').")


class IServiceEvent(IDomainEvent):
    service = Attribute("The service (IService) it happened to; its contract is __parent__.")


class IAccessEvent(IServiceEvent):
    """The service's access changed (the base of blocked and unblocked)."""
    reason = Attribute("One of REASONS.")
    note = Attribute("Words for people and logs ('access withdrawn'), or None.")
    key = Attribute("A key unique to this decision: a subscriber's outbox keys "
                    "start with it, so a batch gone over again queues nothing twice.")


class IServiceBlocked(IAccessEvent):
    """The service lost its access (the contract keeps existing)."""


class IServiceUnblocked(IAccessEvent):
    """The service got its access back."""


class IServiceActivated(IServiceEvent):
    """A service was added to a contract and may be used."""


class IServiceChanged(IServiceEvent):
    """A service's terms changed (a tariff change now or from a date)."""
    what = Attribute("What changed: 'tariff', ...")
    effective = Attribute("The date the change takes effect (datetime.date).")


class IServiceEnded(IServiceEvent):
    """A service ended (its last day passed, or it was removed)."""


class IContractStatusChanged(IDomainEvent):
    """A contract moved from one status to another (``Contract.set_status``)."""
    contract = Attribute("The contract (IContract).")
    old = Attribute("The status before.")
    new = Attribute("The status now.")
    reason = Attribute("The reason given for the change (text).")


class IPaymentPosted(IDomainEvent):
    """Money arrived on an account, from any channel."""
    account = Attribute("The account (IAccount); its contract is __parent__.")
    posting = Attribute("The payment's posting (amount in minor units, cause).")


class IInvoiceIssued(IDomainEvent):
    """An invoice got its number and is final."""
    invoice = Attribute("The invoice (billing's Invoice: number, account, period).")


class IPromiseEvent(IDomainEvent):
    contract = Attribute("The contract (IContract).")
    promise = Attribute("The promise (amount in minor units, taken, until).")


class IPromiseTaken(IPromiseEvent):
    """A promised payment gave a contract temporary credit."""


class IPromiseExpired(IPromiseEvent):
    """A promised payment's credit ended."""


class _Event:
    def __init__(self, root, user="", **fields):
        self.root = root
        self.user = user
        self.__dict__.update(fields)

    def __repr__(self):
        return f"<{type(self).__name__} {self.__dict__!r}>"


class _AccessEvent(_Event):
    def __init__(self, root, service, reason, key, user="", note=None):
        if reason not in REASONS:
            raise ValueError(f"reason must be one of {REASONS}")
        super().__init__(root, user, service=service, reason=reason, key=key, note=note)


@implementer(IServiceBlocked)
class ServiceBlocked(_AccessEvent):
    pass


@implementer(IServiceUnblocked)
class ServiceUnblocked(_AccessEvent):
    pass


@implementer(IServiceActivated)
class ServiceActivated(_Event):
    def __init__(self, root, service, user=""):
        super().__init__(root, user, service=service)


@implementer(IServiceChanged)
class ServiceChanged(_Event):
    def __init__(self, root, service, what, effective, user=""):
        super().__init__(root, user, service=service, what=what, effective=effective)


@implementer(IServiceEnded)
class ServiceEnded(_Event):
    def __init__(self, root, service, user=""):
        super().__init__(root, user, service=service)


@implementer(IContractStatusChanged)
class ContractStatusChanged(_Event):
    def __init__(self, contract, old, new, reason="", user=""):
        super().__init__(find_root(contract), user, contract=contract, old=old, new=new,
                         reason=reason)


@implementer(IPaymentPosted)
class PaymentPosted(_Event):
    def __init__(self, root, account, posting, user=""):
        super().__init__(root, user, account=account, posting=posting)


@implementer(IInvoiceIssued)
class InvoiceIssued(_Event):
    def __init__(self, root, invoice, user=""):
        super().__init__(root, user, invoice=invoice)


class _PromiseEvent(_Event):
    def __init__(self, root, contract, promise, user=""):
        super().__init__(root, user, contract=contract, promise=promise)


@implementer(IPromiseTaken)
class PromiseTaken(_PromiseEvent):
    pass


@implementer(IPromiseExpired)
class PromiseExpired(_PromiseEvent):
    pass


def notify(*events):
    """Tell the subscribers, in the caller's transaction."""
    current_registry().notify(*events)
