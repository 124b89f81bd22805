"""Who a mass mailing goes to: a segment by contract status, tariff and
debt.  A subscriber is in it when one of their contracts matches all the
conditions given (an empty condition matches anything)."""

DEBT = ("", "debtors", "payers")


class Segment:
    def __init__(self, status="", tariff="", debt=""):
        if debt not in DEBT:
            raise ValueError(f"debt: one of {', '.join(d or 'any' for d in DEBT)}")
        self.status = status or ""
        self.tariff = tariff or ""
        self.debt = debt or ""

    def as_dict(self):
        return {"status": self.status, "tariff": self.tariff, "debt": self.debt}

    def describe(self):
        parts = [f"{k} {v}" for k, v in self.as_dict().items() if v]
        return ", ".join(parts) or "every subscriber"

    def contract_matches(self, contract):
        if self.status and contract.status != self.status:
            return False
        account = contract.account
        if self.debt == "debtors" and (account is None or account.balance >= 0):
            return False
        if self.debt == "payers" and (account is None or account.balance < 0):
            return False
        if self.tariff:
            names = {getattr(s.tariff, "__name__", None) for s in contract.values()}
            if self.tariff not in names:
                return False
        return True

    def matches(self, subscriber):
        return any(self.contract_matches(c) for c in subscriber.contracts())


def members(root, segment, after=None, limit=500):
    """Up to *limit* subscribers of the segment with ids past *after*;
    returns (subscribers, the last id looked at or None when done)."""
    tree = root["subscribers"].data
    found = []
    last = None
    looked = 0
    for sid, subscriber in tree.items(min=after, excludemin=after is not None):
        last = sid
        looked += 1
        if segment.matches(subscriber):
            found.append(subscriber)
        if len(found) >= limit or looked >= limit * 20:
            return found, last
    return found, None
