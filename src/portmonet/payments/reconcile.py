"""Reconciliation: per channel and day, what the channel received against
what the ledger booked, with the differences listed; and a channel's own
register (an agent's daily file) compared with ours."""
from .clock import day_of
from .register import CHANNELS


def _booked(root, cause):
    where = root.catalog.causes.get(cause)
    if where is None:
        return None
    account = root.catalog.accounts.get(where[0])
    posting = account.ledger.get(where[1]) if account is not None else None
    return (where[0], posting.amount) if posting is not None else None


def reconcile(root, channel, day):
    register = root["payments"].register
    out = {"channel": channel, "day": day, "received": 0, "received_sum": 0,
           "booked": 0, "booked_sum": 0, "differences": []}
    for cause, (account_no, amount, agent, ext_id, when) in register.day(channel, day):
        out["received"] += 1
        out["received_sum"] += amount
        booked = _booked(root, cause)
        if booked is None:
            out["differences"].append((cause, "received, not booked", amount, None))
            continue
        out["booked"] += 1
        out["booked_sum"] += booked[1]
        if booked != (account_no, amount):
            out["differences"].append((cause, f"received {amount} for {account_no}, "
                                       f"booked {booked[1]} on {booked[0]}", amount, booked[1]))
    return out


def compare_register(root, channel, agent, day, rows):
    """*rows*: the agent's [(ext_id, account, amount minor)] for the day.

    Returns differences: (ext_id, what, theirs, ours).
    """
    ours = {}
    for cause, (account_no, amount, held_agent, ext_id, when) in \
            root["payments"].register.day(channel, day):
        if held_agent == agent:
            ours[ext_id] = (account_no, amount)
    diffs = []
    theirs = {}
    for ext_id, account, amount in rows:
        ext_id = str(ext_id)
        theirs[ext_id] = amount
        held = ours.get(ext_id)
        if held is None:
            diffs.append((ext_id, "in their register, not in ours", amount, None))
        elif held[1] != amount:
            diffs.append((ext_id, "amounts differ", amount, held[1]))
    for ext_id, (account_no, amount) in ours.items():
        if ext_id not in theirs:
            diffs.append((ext_id, "in our register, not in theirs", None, amount))
    return sorted(diffs)


def check_received_booked(root, conn, report):
    """Books check: every register row is booked with its amount on its
    account, and every channel posting has a register row."""
    if "payments" not in root:
        return
    register = root["payments"].register
    causes = root.catalog.causes
    for channel in CHANNELS:
        rows = 0
        for (ch, day, cause), (account_no, amount, agent, ext_id, when) in register.channel(channel):
            rows += 1
            report.count("payments received")
            booked = _booked(root, cause)
            if booked != (account_no, amount):
                report.problem(f"payment {cause}: received {amount} for {account_no}, "
                               f"booked {booked!r}")
        posted = 0
        for cause, (number, key) in causes.items(f"{channel}:", f"{channel};"):
            posted += 1
            account = root.catalog.accounts.get(number)
            posting = account.ledger.get(key) if account is not None else None
            if posting is None or (channel, day_of(posting.time), cause) not in register.rows:
                report.problem(f"payment {cause} on account {number} is booked, not received")
        report.count("payments booked", posted)
        if posted != rows:
            report.problem(f"channel {channel}: {posted} postings booked, {rows} received")
