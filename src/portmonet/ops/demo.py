"""Deterministic demo data: names, addresses, tariffs."""
import random

from ..features import current_registry
from ..interfaces import ITariffBook

SURNAMES = ["Ivanov", "Petrov", "Sidorov", "Smirnov", "Kuznetsov", "Popov", "Vasiliev",
            "Sokolov", "Mikhailov", "Novikov", "Fedorov", "Morozov", "Volkov", "Alekseev",
            "Lebedev", "Semenov", "Egorov", "Pavlov", "Kozlov", "Stepanov", "Nikolaev",
            "Orlov", "Andreev", "Makarov", "Nikitin", "Zakharov", "Zaitsev", "Soloviev",
            "Borisov", "Yakovlev", "Grigoriev", "Romanov", "Vorobiev", "Sergeev", "Frolov",
            "Smith", "Johnson", "Brown", "Taylor", "Wilson", "Иванов", "Петров", "Сидоров",
            "Кузнецов", "Смирнов", "Соколов", "Попов", "Лебедев", "Козлов", "Новиков"]
GIVEN = ["Alexander", "Sergey", "Dmitry", "Andrey", "Alexey", "Maxim", "Ivan", "Mikhail",
         "Elena", "Olga", "Natalia", "Tatiana", "Irina", "Anna", "Maria", "Svetlana",
         "John", "Mary", "Peter", "Anne", "Александр", "Сергей", "Елена", "Ольга", "Наталья"]
STREETS = ["Lenina", "Mira", "Sovetskaya", "Pushkina", "Gagarina", "Molodezhnaya",
           "Shkolnaya", "Tsentralnaya", "Sadovaya", "Lesnaya"]
ORG_FORMS = ["LLC", "JSC", "ООО", "АО"]
ORG_WORDS = ["Vector", "Horizon", "Delta", "Signal", "Polar", "Северный", "Техно", "Альфа"]

TARIFFS = [
    # name, title, kind, monthly fee in kopecks
    ("home-50", "Home 50 Mbit/s", "internet", 45000),
    ("home-100", "Home 100 Mbit/s", "internet", 60000),
    ("home-500", "Home 500 Mbit/s", "internet", 90000),
    ("business-1g", "Business 1 Gbit/s", "internet", 350000),
    ("phone-city", "City telephone", "phone", 25000),
    ("tv-basic", "TV Basic", "tv", 30000),
]
SPEEDS = {"home-50": "50M/50M", "home-100": "100M/100M", "home-500": "500M/500M",
          "business-1g": "1G/1G"}
# What every demo plan has besides its fee (a tariff definition's version,
# docs/tariffs.md): speeds, free night traffic on the local network, and
# the city line's zones, so the demo world rates calls and traffic.
TELEPHONE_ZONES = [
    {"name": "emergency", "prefixes": ["112", "101", "102", "103"], "price": "0"},
    {"name": "in-network", "prefixes": ["7495000"], "price": "0"},
    {"name": "local", "prefixes": ["7495", "7499"], "price": "1.00", "increment": "60/60"},
    {"name": "long-distance", "prefixes": ["7"], "price": "2.50", "increment": "60/60",
     "connection_fee": "0.50", "prices": {"night": "1.50"}},
    {"name": "international", "prefixes": ["1", "3", "4", "8", "9"], "price": "12.00",
     "increment": "60/60"},
]


def _definition(name, title, kind, fee):
    version = {"effective": "2024-01-01",
               "fee": {"amount": f"{fee // 100}.{fee % 100:02d}", "period": "month",
                       "charge": "advance"}}
    if kind == "internet":
        version.update(rate_limit=SPEEDS[name],
                       traffic_classes={"local": ["10.0.0.0/8"]},
                       volume=[{"name": "local", "classes": ["local"], "price": "0"}])
    if kind == "phone":
        version.update(periods=[{"name": "night", "from": "22:00", "to": "08:00",
                                 "days": ["all"]}],
                       zones=TELEPHONE_ZONES)
    return {"name": name, "title": title, "kind": kind, "currency": "RUB",
            "timezone": "Europe/Moscow", "versions": [version]}


def ensure_tariffs(root):
    """The demo plans, as rated tariffs with versions (a database made
    before keeps the plain ones it has)."""
    missing = [t for t in TARIFFS if t[0] not in root["tariffs"]]
    if missing:
        book = current_registry().getUtility(ITariffBook)    # the demo needs the tariffs feature
        book.install(root, {"tariffs": [_definition(*t) for t in missing]})
    return [root["tariffs"][name] for name, *_ in TARIFFS]


class Person:
    """One fake subscriber's details, from a seeded random generator."""

    def __init__(self, rng, id):
        self.organisation = rng.random() < 0.05
        if self.organisation:
            self.name = f"{rng.choice(ORG_FORMS)} {rng.choice(ORG_WORDS)} {rng.choice(SURNAMES)}"
        else:
            self.name = f"{rng.choice(SURNAMES)} {rng.choice(GIVEN)}"
        self.phone = f"79{id % 1_000_000_000:09d}"
        self.email = f"user{id}@example.net"
        self.address = f"{rng.choice(STREETS)} st. {rng.randint(1, 200)}, apt {rng.randint(1, 300)}"
        self.login = f"u{id:07d}"
        self.password = f"{rng.getrandbits(40):010x}"
        self.ip = f"10.{(id >> 16) & 255}.{(id >> 8) & 255}.{id & 255}"
        self.balance = rng.randint(0, 300000)


def people(seed, start_id, count):
    rng = random.Random(seed)
    for id in range(start_id, start_id + count):
        yield id, Person(rng, id)
