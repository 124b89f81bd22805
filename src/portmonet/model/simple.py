"""Top-level folders whose objects later features fill in: tariffs,
equipment, partner operators."""
from persistent import Persistent
from zope.interface import implementer

from ..interfaces import (IEquipment, IEquipmentFolder, IOperator, IOperators,
                          ITariff, ITariffs)
from .folder import Folder


class Named(Persistent):
    __name__ = None
    __parent__ = None

    def __init__(self, name, title=""):
        if not name or "/" in name or len(name) > 64:
            raise ValueError(f"name {name!r}: 1-64 characters, no '/'")
        self.name = name
        self.title = title or name


@implementer(ITariffs)
class Tariffs(Folder):
    title = "Tariffs"


@implementer(ITariff)
class Tariff(Named):
    """A tariff plan: its rules come with the rating feature."""
    kind = "internet"
    monthly_fee = 0          # minor units
    currency = "RUB"

    def __init__(self, name, title="", kind="internet", monthly_fee=0, currency="RUB"):
        super().__init__(name, title)
        self.kind = kind
        self.monthly_fee = monthly_fee
        self.currency = currency


@implementer(IEquipmentFolder)
class EquipmentFolder(Folder):
    title = "Equipment"


@implementer(IEquipment)
class Device(Named):
    kind = "switch"          # nas, switch, router ...
    address = ""
    vendor = ""

    def __init__(self, name, kind="switch", address="", vendor="", title=""):
        super().__init__(name, title)
        self.kind = kind
        self.address = address
        self.vendor = vendor


@implementer(IOperators)
class Operators(Folder):
    title = "Partner operators"


@implementer(IOperator)
class Operator(Named):
    pass
