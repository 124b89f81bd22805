"""A small world for rating and billing tests: the sample tariffs and one
subscriber with Internet, a telephone line and TV."""
import datetime
import zoneinfo

from portmonet.model.services import InternetService, TelephoneLine, TvPackage
from portmonet.model.subscriber import Subscriber
from portmonet.tariffs.loader import install, load_text, parse_document
from portmonet.usage import UsageRecord

from tariffs.samples import PLANS

MSK = zoneinfo.ZoneInfo("Europe/Moscow")


def us(*args, tz=MSK):
    return int(datetime.datetime(*args, tzinfo=tz).timestamp() * 1_000_000)


def load_plans(root, text=PLANS, replace=False):
    return install(root, parse_document(load_text(text, "yaml")), replace)


def make_contract(root, n=1, balance=100000, credit_limit=0, started=datetime.date(2024, 1, 1),
                  tv=False, email=None):
    tariffs = root["tariffs"]
    sub = root["subscribers"].add_subscriber(
        Subscriber(f"Ivanov Ivan {n}", email=email or f"ivan{n}@example.net"))
    contract = sub.new_contract(credit_limit=credit_limit, signed=started)
    contract.add_service(InternetService(f"ivan{n}", "secret", tariff=tariffs["home"],
                                         started=started))
    contract.add_service(TelephoneLine(f"7495100{n:04d}", tariff=tariffs["phone"],
                                       started=started))
    if tv:
        contract.add_service(TvPackage("basic", tariff=tariffs["tv"], started=started))
    if balance:
        contract.account.post(balance, "payment", f"opening:{contract.number}", "opening")
    return contract


def phones_and_logins(db, count):
    """*count* contracts on the demo plans, committed in *db* (a real
    database, e.g. through ZEO): (their phone numbers, their logins)."""
    from portmonet.model.root import get_root
    with db.transaction() as conn:
        root = get_root(conn.root())
        load_plans(root)
        contracts = [make_contract(root, n, balance=0) for n in range(count)]
        return ([k.services("phone")[0].number for k in contracts],
                [k.services("internet")[0].login for k in contracts])


def call(sid, caller, destination, seconds, start):
    return UsageRecord(sid, "call", caller, start, start + seconds * 1_000_000,
                       {"seconds": seconds}, {"destination": destination})


def traffic(sid, login, octets_in, octets_out, start, **attrs):
    return UsageRecord(sid, "traffic", login, start, start + 60_000_000,
                       {"octets_in": octets_in, "octets_out": octets_out}, attrs)


def phone_contract_with_a_call(root):
    """The plans, one contract at zero balance, and one call of its line queued
    (cause ``usage:cdr:a``); returns (contract number, line number)."""
    load_plans(root)
    contract = make_contract(root, 1, balance=0)
    line = contract.services("phone")[0].number
    root.usage.enqueue(call("cdr:a", line, "74992223344", 61, us(2024, 3, 4, 12, 0)))
    return contract.number, line
