"""Evolve steps of the core model."""
from ..catalog import normalize
from . import step


@step("2026-11-25-core-01-normalize-contact-phones")
def normalize_contact_phones(root):
    """Early databases stored contact phones as typed ('+7 (495) 123-45-67')
    and indexed nothing; store them normalized and index them."""
    catalog = root.catalog
    for subscriber in root["subscribers"].values():
        raw = subscriber.phone
        if not raw:
            continue
        try:
            phone = normalize.phone(raw)
        except normalize.InvalidValue:
            subscriber.notes = (subscriber.notes + f"\nunreadable phone kept: {raw}").strip()
            subscriber.phone = None
            continue
        if phone != raw or subscriber.id not in catalog.phones.ids(phone):
            catalog.phones.discard(raw, subscriber.id)
            subscriber.phone = phone
            catalog.phones.add(phone, subscriber.id)


@step("2026-11-25-core-02-usage-queue-and-outbox")
def add_usage_queue_and_outbox(root):
    """The usage queue (collectors -> rater) and the outbox (decisions -> effects)."""
    from ..outbox import Outbox
    from ..usage import UsageQueue
    if getattr(root, "usage", None) is None:
        root.usage = UsageQueue()
        root.usage.__parent__ = root
    if getattr(root, "outbox", None) is None:
        root.outbox = Outbox()
        root.outbox.__parent__ = root


@step("2026-11-25-core-03-outbox-pending-index")
def index_pending_outbox_messages(root):
    """Outboxes made before the pending index: index what is still to do."""
    from BTrees.OOBTree import OOBTree
    outbox = root.outbox
    if getattr(outbox, "pending", None) is not None:
        return
    outbox.pending = OOBTree()
    for channel, tree in outbox.channels.items():
        for slot, message in tree.items():
            message.__parent__, message.slot = outbox, slot
            if message.state in ("queued", "failed"):
                outbox.pending[(channel, slot)] = message


BATCH = 2000


def count_contracts(root, batch=BATCH):
    """{status: n} by walking every subscriber's contracts, *batch*
    subscribers at a time (prefetched; the connection's cache is trimmed
    between batches so a million subscribers do not fill memory)."""
    from ..model.contract import STATUSES
    counted = dict.fromkeys(STATUSES, 0)
    subscribers = root["subscribers"]
    conn = getattr(root, "_p_jar", None)
    start = None
    while True:
        ids = list(_take(subscribers.keys(min=start), batch + 1))
        if start is not None and ids and ids[0] == start:
            ids = ids[1:]
        ids = ids[:batch]
        if not ids:
            return counted
        subs = [subscribers[i] for i in ids]
        _prefetch(conn, subs)
        contracts = [c for sub in subs for c in sub.contracts()]
        _prefetch(conn, contracts)       # one round of loads, not one per contract
        for contract in contracts:
            counted[contract.status] += 1
        start = ids[-1]
        if conn is not None:
            conn.cacheGC()


def _take(iterable, n):
    for i, item in enumerate(iterable):
        if i >= n:
            return
        yield item


def _prefetch(conn, objects):
    if conn is not None and hasattr(conn, "prefetch"):
        conn.prefetch([o for o in objects if getattr(o, "_p_oid", None)])


@step("2026-11-25-core-04-contract-status-counts")
def add_contract_status_counts(root):
    """``root.contract_counts``: contracts per status, kept by Contract from
    now on; an existing database is counted once here (idempotent: a rerun
    recounts and sets the same figures)."""
    from ..model.contract import StatusCounts
    if root.contract_counts is None:
        root.contract_counts = StatusCounts()
        root.contract_counts.__parent__ = root
    root.contract_counts.set(count_contracts(root))


@step("2026-12-04-core-05-web-sessions")
def add_web_sessions(root):
    """``root.web_sessions``: the server-side book of sign-in sessions
    (:mod:`portmonet.web.sessions`), so that logging out ends every copy
    of a session cookie."""
    from ..web.sessions import SessionBook
    if getattr(root, "web_sessions", None) is None:
        root.web_sessions = SessionBook()
        root.web_sessions.__parent__ = root


@step("2026-12-04-core-06-network-index")
def add_network_index(root):
    """``catalog.networks``: the static networks Internet services hold
    (a business customer's /29), so flows from them find their contract."""
    from ..catalog import UNIQUE, UniqueIndex
    if getattr(root.catalog, "networks", None) is None:
        title, integer_keys = UNIQUE["networks"]
        root.catalog.networks = UniqueIndex(title, integer_keys)
