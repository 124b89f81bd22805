"""The OSMP check/pay protocol of terminal networks and payment agents.

``command=check&txn_id=..&account=..&sum=..`` asks whether a payment can be
taken; ``command=pay&txn_id=..&txn_date=YYYYMMDDhhmmss&account=..&sum=..``
takes it.  A repeated ``pay`` with a ``txn_id`` already answered gets the
first (final) answer again and posts nothing.  This module is the protocol
logic; the HTTP side is :mod:`portmonet.payments.views.osmp`.
"""
import re
from collections import namedtuple
from xml.sax.saxutils import escape

from ..money import MoneyError, format_amount, parse_canonical
from .canonical import NotCanonical, digits, number
from .clock import now_us
from .credit import DuplicateMismatch, credit
from .lookup import BadAccount, payable_account
from .trees import prefetch_keys

RESULTS = {
    0: "OK",
    1: "temporary error, repeat later",
    4: "wrong account format",
    5: "account not found",
    7: "payment forbidden by the provider",
    8: "payment forbidden for technical reasons",
    79: "account not active",
    90: "payment not finished",
    241: "sum too small",
    242: "sum too large",
    243: "cannot check the account",
    300: "other error",
}
# Answers a terminal may repeat the request after: never stored as final.
TEMPORARY = (1, 90)

# Canonical (docs/payments.md): txn_id 1-20 ASCII digits without leading
# zeros, sum ASCII digits with a dot and at most the currency's decimals,
# txn_date 14 ASCII digits; each parameter once.
TXN_ID_DIGITS = 20
# Characters XML 1.0 cannot carry: an echoed parameter never breaks the answer.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")

Answer = namedtuple("Answer", "osmp_txn_id prv_txn sum result comment")


def answer(params, result, prv_txn="", comment=None, amount=None):
    return Answer(params.get("txn_id", ""), prv_txn,
                  params.get("sum", "") if amount is None else amount,
                  result, comment or RESULTS[result])


def to_xml(ans):
    fields = [("osmp_txn_id", ans.osmp_txn_id), ("prv_txn", ans.prv_txn),
              ("sum", ans.sum), ("result", ans.result), ("comment", ans.comment)]
    body = "".join(f"<{k}>{escape(_NOT_XML.sub('?', str(v)))}</{k}>"
                   for k, v in fields if v != "" or k == "result")
    return f'<?xml version="1.0" encoding="UTF-8"?>\n<response>{body}</response>\n'.encode()


def _validate(root, agent, params):
    """(account, amount) or an error Answer."""
    if canonical_txn_id(params) is None:
        return answer(params, 300, comment="txn_id must be 1-20 ASCII digits without leading zeros")
    if not agent.active:
        return answer(params, 8, comment="agent disabled")
    try:
        amount = parse_canonical(params.get("sum", ""), agent.currency)
    except MoneyError:
        return answer(params, 300, comment="bad sum: ASCII digits and a dot, as 150.00")
    if amount < max(agent.min_sum, 1):
        return answer(params, 241)
    if amount > agent.max_sum:
        return answer(params, 242)
    try:
        account = payable_account(root, params.get("account", ""))
    except BadAccount:
        return answer(params, 4)
    if account is None:
        return answer(params, 5)
    if account.__parent__.status == "terminated":
        return answer(params, 79)
    if account.currency != agent.currency:
        return answer(params, 7, comment="account currency differs")
    return account, amount


def canonical_txn_id(params):
    """The request's txn_id if it is canonical, else None."""
    try:
        return number(params.get("txn_id", ""), "txn_id", TXN_ID_DIGITS)
    except NotCanonical:
        return None


def _bad_date(params):
    date = params.get("txn_date", "")
    if not date:
        return False
    try:
        digits(date, "txn_date", 14)
    except NotCanonical:
        return True
    return False


def check(root, agent, params):
    got = _validate(root, agent, params)
    if isinstance(got, Answer):
        return got
    return answer(params, 0)


def prefetch(root, texts):
    """Load the accounts a batch of payments names (account numbers), their
    contracts and subscribers: one ZEO round trip per step for the batch."""
    conn = root._p_jar
    if conn is None or not texts:
        return
    index = root.catalog.accounts
    prefetch_keys(conn, index.tree, texts)
    objects = [a for a in (index.get(t) for t in texts) if a is not None]
    for _ in range(3):              # the accounts, their contracts, their subscribers
        ghosts = [o for o in objects if getattr(o, "_p_changed", 0) is None]
        if ghosts:
            conn.prefetch(ghosts)
        objects = [p for p in (getattr(o, "__parent__", None) for o in objects)
                   if p is not None]


def pay(root, agent, params, user=""):
    """Take a payment (in the caller's transaction); returns the Answer."""
    txn_id = canonical_txn_id(params)
    held = agent.txns.get(txn_id) if txn_id is not None else None
    if held is not None:
        return Answer(txn_id, *held[:4])
    date = params.get("txn_date", "")
    if _bad_date(params):
        ans = answer(params, 300, comment="txn_date must be YYYYMMDDhhmmss")
    else:
        got = _validate(root, agent, params)
        if isinstance(got, Answer):
            ans = got
        else:
            account, amount = got
            ans = _book(root, agent, account, amount, txn_id, date, user)
    if ans.result not in TEMPORARY and txn_id is not None:
        agent.txns[txn_id] = (ans.prv_txn, ans.sum, ans.result, ans.comment,
                              params.get("account", ""), now_us())
    return ans


class _Collected:
    """What one transaction took in through one agent."""

    def __init__(self):
        self.total = 0
        self.txn_ids = []


def collect(agent, amount, txn_id, user=""):
    """Book *amount* out of the agent's settlement account — once per
    transaction for all its payments in it (a group commit holds many), not
    once per payment: one posting and one cause instead of dozens.  The
    cause names the first txn_id and how many more there are
    (``agent:<agent>:<txn_id>`` when alone, ``...:<txn_id>+<n>`` else);
    the register keeps every payment's own row."""
    if agent.account is None:
        return
    jar = agent._p_jar
    if jar is None:
        agent.account.post(-amount, "transfer", f"agent:{agent.name}:{txn_id}", user=user)
        return
    txn = jar.transaction_manager.get()
    try:
        held = txn.data(agent)
    except KeyError:
        held = _Collected()
        txn.set_data(agent, held)
        txn.addBeforeCommitHook(_post_collected, (agent, held, user))
    held.total += amount
    held.txn_ids.append(txn_id)


def _post_collected(agent, held, user):
    first, more = held.txn_ids[0], len(held.txn_ids) - 1
    cause = f"agent:{agent.name}:{first}" + (f"+{more}" if more else "")
    agent.account.post(-held.total, "transfer", cause, user=user,
                       text=f"collected {len(held.txn_ids)} payment(s), txn_id "
                            + ", ".join(held.txn_ids[:20]) + (" ..." if more >= 20 else ""))


def _book(root, agent, account, amount, txn_id, date, user):
    text = f"terminal payment via {agent.name}" + (f", terminal time {date}" if date else "")
    try:
        posting, _ = credit(root, account, amount, "osmp", agent.name, txn_id, text, user)
    except DuplicateMismatch as exc:
        return Answer(txn_id, "", "", 300, str(exc))
    collect(agent, amount, txn_id, user)
    return Answer(txn_id, str(posting.key), format_amount(amount, agent.currency), 0, "OK")
