"""``portmonet seed``: realistic demo data, deterministic with ``--seed``.

Each subscriber gets a contract, its personal account with an opening
payment, and an Internet service on one of the demo tariffs; every tenth a
city telephone line.  Commits in large batches and trims the cache after
each, which is what keeps a million subscribers within minutes and memory.
"""
from ..model.services import InternetService, TelephoneLine
from ..model.subscriber import Subscriber
from .demo import ensure_tariffs, people
from ..txn import describe


def seed(conn, tm, count, seed=1, batch=5000, progress=None, user="portmonet seed"):
    from ..model.root import get_root
    root = get_root(conn.root())
    tariffs = ensure_tariffs(root)
    internet = [t for t in tariffs if t.kind == "internet"]
    phone = next(t for t in tariffs if t.kind == "phone")
    subscribers = root["subscribers"]
    start = (subscribers.data.maxKey() + 1) if subscribers.data else 1
    txn = tm.get()
    describe(txn, user, f"seed {count} subscribers from id {start}")
    made = 0
    for id, person in people(seed, start, count):
        sub = subscribers.add_subscriber(Subscriber(
            person.name, kind="organisation" if person.organisation else "person",
            phone=person.phone, email=person.email, address=person.address), id=id)
        contract = sub.new_contract(credit_limit=0 if id % 3 else 10000)
        contract.add_service(InternetService(person.login, person.password, person.ip,
                                             tariff=internet[id % len(internet)]))
        if id % 10 == 0:
            contract.add_service(TelephoneLine(f"7495{id % 10_000_000:07d}", tariff=phone))
        if person.balance:
            contract.account.post(person.balance, "payment", f"seed:{id}", "Opening payment")
        made += 1
        if made % batch == 0:
            tm.commit()
            conn.cacheMinimize()
            txn = tm.get()
            describe(txn, user, f"seed subscribers (batch ending at {id})")
            if progress:
                progress(batch)
    tm.commit()
    if progress and made % batch:
        progress(made % batch)
    return start, made
