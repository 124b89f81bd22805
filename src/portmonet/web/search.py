"""One search box over the catalog: every lookup is a BTree access, never a
scan, so it answers as fast on a million subscribers as on ten.

What the query looks like decides where to look: an IPv4 address, an
e-mail, digits (account, contract, phone, subscriber id), or a login; any
text is also taken as name word prefixes (every word must match).

A name word of a million subscribers matches tens of thousands of them
("ivan" is a given name and the start of a surname): :func:`search_page`
merges the index's sorted id sets lazily, so a page reads the ids up to
that page (and counts a little further), not every match.
"""
import heapq

from ..catalog import normalize
from ..interfaces import ISubscriber
from ..model.contract import valid_account_number
from ..model.lineage import find_interface
from .helpers import prefetch, prefetch_keys

MAX_WORD_KEYS = 2000      # name keys a short prefix may expand to


def _subscriber_id(obj):
    # Service -> contract -> subscriber: the parents are fetched one by one.
    subscriber = find_interface(obj, ISubscriber)
    return subscriber.id if subscriber is not None else None


_TOP = "\U0010ffff"
COUNT_CAP = 200           # matches counted beyond a page's start ("200+")
READ_BUDGET = 20_000      # index ids read by one page at most
MAX_PAGE = 500


def _clean(query):
    return " ".join((query or "").split())[:100]


def exact_ids(root, query):
    """Subscriber ids of the exact lookups (login, contract, account, IP,
    e-mail, phone, number): a handful of BTree gets, their buckets fetched
    from ZEO together."""
    cat = root.catalog
    # Each lookup of a key nobody has still reads an index bucket (a ZEO
    # round trip when cold): ask only the indexes the query can be a key of.
    unique, multi = [], []
    try:
        unique.append((cat.logins, normalize.login(query)))
    except ValueError:
        pass
    if len(query) <= 32 and "/" not in query:
        unique.append((cat.contracts, query))
    if valid_account_number(query):
        unique.append((cat.accounts, query))
    try:
        unique.append((cat.ips, normalize.ipv4(query)))
    except ValueError:
        pass
    if "@" in query:
        try:
            multi.append((cat.emails, normalize.email(query)))
        except ValueError:
            pass
    digits = _digits(query)
    number = None
    if digits.isdigit():
        try:
            phone = normalize.phone(digits)
            multi.append((cat.phones, phone))
            unique.append((cat.lines, phone))
        except ValueError:
            pass
        if len(digits) < 19:
            number = int(digits)
    subscribers = root["subscribers"].data
    prefetch_keys([(index.tree, key) for index, key in unique + multi]
                  + ([(subscribers, number)] if number is not None else []))
    found = [index.get(key) for index, key in unique]
    prefetch(found)
    exact = [sid for sid in map(_subscriber_id, filter(None, found)) if sid is not None]
    for index, key in multi:
        exact.extend(index.ids(key))
    if number is not None and number in subscribers:
        exact.append(number)
    return sorted(set(exact))


def _digits(query):
    return query.replace(" ", "").replace("-", "").replace("(", "").replace(")", "").lstrip("+")


class _Budget:
    def __init__(self, limit):
        self.left = limit

    def read(self, iterable):
        for value in iterable:
            self.left -= 1
            if self.left < 0:
                raise _OverBudget()
            yield value


class _OverBudget(Exception):
    pass


def _merged(iterables):
    """Sorted, without repeats, from sorted iterables, read lazily."""
    last = None
    for value in heapq.merge(*iterables):
        if value != last:
            yield value
            last = value


def _intersected(iterators):
    """Sorted values in every one of the sorted iterators, read lazily."""
    if not iterators:
        return
    heads = []
    for it in iterators:
        value = next(it, None)
        if value is None:
            return
        heads.append(value)
    while True:
        top = max(heads)
        if all(h == top for h in heads):
            yield top
            top += 1
        for i, it in enumerate(iterators):
            while heads[i] < top:
                value = next(it, None)
                if value is None:
                    return
                heads[i] = value


def _word_sources(words_index, word):
    """The index's id collections of *word*: every key it is a prefix of
    (3+ letters) or the word itself (shorter: it must match whole)."""
    tree = words_index.tree
    if len(word) < 3:
        found = [tree.get(word)] if tree.get(word) is not None else []
    else:
        found = []
        for n, held in enumerate(tree.values(word, word + _TOP)):
            if n >= MAX_WORD_KEYS:
                break
            found.append(held)
    # Big sets are read from their first bucket on: fetch the sets, then
    # those buckets, each in one round trip.
    sets = [held for held in found if not isinstance(held, tuple)]
    prefetch(sets)
    prefetch([state[1] for state in (s.__getstate__() for s in sets)
              if state and len(state) > 1])
    # A small key's ids are a tuple in the order they came: sort it.
    return [sorted(held) if isinstance(held, tuple) else held for held in found]


def name_ids(root, query, budget):
    """A lazy sorted iterator of the ids whose name words all match."""
    words = normalize.words(query)[:5]
    iterators = [_merged([budget.read(held) for held in _word_sources(root.catalog.words, w)])
                 for w in words]
    return _intersected(iterators) if iterators else iter(())


def search_page(root, query, page, size):
    """(ids of the page, total or None when only a lower bound is known,
    lower bound, more?) — reading the index only up to this page and
    ``COUNT_CAP`` matches beyond its start."""
    query = _clean(query)
    if not query:
        return [], 0, 0, False
    exact = exact_ids(root, query)
    words = normalize.words(query)
    budget = _Budget(READ_BUDGET)
    if words and not (exact and len(words) == 1 and _digits(query).isdigit()):
        ids = _merged([exact, name_ids(root, query, budget)])
    else:
        ids = iter(exact)
    start = min(max(page, 0), MAX_PAGE) * size
    rows, n, done = [], 0, True
    try:
        for sid in ids:
            if start <= n < start + size:
                rows.append(sid)
            n += 1
            if n >= start + COUNT_CAP:
                done = False
                break
    except _OverBudget:
        done = False
    more = n > start + size
    return rows, (n if done else None), n, more
