"""Marker interfaces: views bind to these with ``view_config(context=...)``."""
from zope.interface import Interface


class IFolder(Interface):
    """A BTree-backed container of named children."""


class IRoot(IFolder):
    """The application root (``/``)."""


class ISubscribers(IFolder):
    """``/subscribers``: every subscriber, keyed by integer id."""


class ISubscriber(IFolder):
    """A person or an organisation; a folder of its contracts."""


class IContract(IFolder):
    """An agreement: services, tariffs, status, a personal account."""


class IService(Interface):
    """Something a contract subscribes to."""


class IInternetService(IService):
    """Internet access: login, encrypted password, static IP."""


class ITelephoneLine(IService):
    """A telephone line with its number."""


class ITvPackage(IService):
    """A television package."""


class IOneTimeService(IService):
    """A one-time service (installation, equipment sale ...)."""


class IAccount(Interface):
    """A personal account: balance, credit limit, ledger."""


class ITariffs(IFolder):
    """``/tariffs``."""


class ITariff(Interface):
    """A tariff plan."""


class IEquipmentFolder(IFolder):
    """``/equipment``."""


class IEquipment(Interface):
    """A device: NAS, switch, router."""


class IOperators(IFolder):
    """``/operators``."""


class IOperator(Interface):
    """A partner operator."""


class IStaffFolder(IFolder):
    """``/staff``."""


class IStaffUser(Interface):
    """An employee with roles."""


class IDiscountGroups(Interface):
    """A utility a feature registers: ``groups(root)`` -> the sorted names of
    the discount groups a contract may be put in (the contract form's choices)."""

    def __call__(root):
        pass


class ITariffBook(Interface):
    """A utility the tariffs feature registers: the core's way to use
    tariffs without importing the feature."""

    def change(root, service, tariff, user="", next_period=False):
        """Put *service* on *tariff* now (or from next month) and tell it as
        ``ServiceChanged``; returns the date it takes effect."""

    def install(root, document):
        """Install the tariffs of a loader document (a dict with "tariffs")."""
