"""Deterministic demo data: names, addresses, tariffs."""
import random

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


def ensure_tariffs(root):
    from ..model.simple import Tariff
    tariffs = root["tariffs"]
    for name, title, kind, fee in TARIFFS:
        if name not in tariffs:
            tariffs.add(name, Tariff(name, title, kind=kind, monthly_fee=fee))
    return [tariffs[name] for name, *_ in TARIFFS]


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
