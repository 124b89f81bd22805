"""One search box over the catalog: every lookup is a BTree access, never a
scan, so it answers as fast on a million subscribers as on ten.

What the query looks like decides where to look: an IPv4 address, an
e-mail, digits (account, contract, phone, subscriber id), or a login; any
text is also taken as name word prefixes (every word must match).
"""
from BTrees.LLBTree import LLTreeSet, intersection, union

from ..catalog import normalize
from ..interfaces import ISubscriber
from ..model.lineage import find_interface

MAX_WORD_KEYS = 2000      # name keys a short prefix may expand to


def _subscriber_id(obj):
    subscriber = find_interface(obj, ISubscriber)
    return subscriber.id if subscriber is not None else None


def search_ids(root, query):
    """Sorted subscriber ids (an LLTreeSet) matching *query*."""
    query = " ".join((query or "").split())[:100]
    if not query:
        return LLTreeSet()
    cat = root.catalog
    exact = []

    def hit(obj):
        if obj is not None:
            sid = _subscriber_id(obj)
            if sid is not None:
                exact.append(sid)

    hit(cat.logins.get(query))
    hit(cat.contracts.get(query))
    hit(cat.accounts.get(query))
    try:
        hit(cat.ips.get(normalize.ipv4(query)))
    except ValueError:
        pass
    if "@" in query:
        try:
            exact.extend(cat.emails.ids(normalize.email(query)))
        except ValueError:
            pass
    digits = query.replace(" ", "").replace("-", "").replace("(", "").replace(")", "").lstrip("+")
    if digits.isdigit():
        try:
            phone = normalize.phone(digits)
            exact.extend(cat.phones.ids(phone))
            hit(cat.lines.get(phone))
        except ValueError:
            pass
        if len(digits) < 19 and int(digits) in root["subscribers"].data:
            exact.append(int(digits))
    result = LLTreeSet(exact)
    words = normalize.words(query)
    if words and not (exact and len(words) == 1 and digits.isdigit()):
        named = None
        for word in words[:5]:
            # A one- or two-letter prefix would union a large part of the
            # index: such short words must match whole.
            ids = (cat.words.ids_with_prefix(word, max_keys=MAX_WORD_KEYS) if len(word) >= 3
                   else cat.words.ids(word))
            named = ids if named is None else intersection(named, ids)
            if not named:
                break
        if named:
            result = union(result, named)
    return result


def page_of(ids, page, size):
    """The subscriber ids of one page, without materialising the rest."""
    start = page * size
    out = []
    for n, sid in enumerate(ids):
        if n >= start + size:
            break
        if n >= start:
            out.append(sid)
    return out
