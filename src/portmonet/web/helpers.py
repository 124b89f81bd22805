"""What every template gets as ``h``: URLs, permissions, money, translation,
the CSRF token, the signed-in user; and the audit note of a change."""
import bisect
import datetime

from pyramid.csrf import get_csrf_token
from pyramid.events import BeforeRender, subscriber

from .. import clock
from .. import money
from .i18n import LANGUAGES
from .panels import draw_links, draw_panels


class Helpers:

    def __init__(self, request):
        self.request = request

    @property
    def identity(self):
        return self.request.identity

    @property
    def csrf(self):
        return get_csrf_token(self.request)

    @property
    def lang(self):
        return self.request.locale_name

    languages = LANGUAGES

    def t(self, message, **mapping):
        from .i18n import _
        return self.request.localizer.translate(_(message, mapping=mapping or None))

    def can(self, permission, context=None):
        return bool(self.request.has_permission(
            permission, self.request.context if context is None else context))

    def url(self, resource, *elements, **query):
        return self.request.resource_url(resource, *elements, query=query or None)

    def money(self, minor, currency="RUB"):
        return money.format_amount(minor, currency)

    @staticmethod
    def when(value):
        if value is None:
            return ""
        if isinstance(value, (int, float)):        # seconds since the epoch
            value = clock.local(int(value * 1_000_000))
        if isinstance(value, datetime.datetime):
            return value.strftime("%Y-%m-%d %H:%M:%S")
        return value.isoformat()

    def flashes(self):
        return self.request.session.pop_flash()

    def panels(self, where, context=None):
        """The features' panels for *where* ('card', 'contract', 'office')."""
        return draw_panels(self.request, self.request.context if context is None else context,
                           where)

    def links(self, where, context=None):
        """The features' links for *where* ('nav', 'office', 'service') about
        *context* (the root by default): [Drawn(name, title, url, method)]."""
        return draw_links(self.request, where, context)


@subscriber(BeforeRender)
def add_helpers(event):
    request = event.get("request")
    if request is not None:
        event["h"] = Helpers(request)


def prefetch(objects):
    """Ask ZEO for all these objects in one go (a round trip each, one after
    another, is most of a page's time on a cold cache); a no-op for objects
    already loaded and for storages that cannot prefetch."""
    ghosts = [o for o in objects if o is not None and getattr(o, "_p_changed", 0) is None]
    if len(ghosts) > 1 and ghosts[0]._p_jar is not None:
        ghosts[0]._p_jar.prefetch(ghosts)


def buckets_holding(tree, keys):
    """The buckets of a BTree where *keys* are or would be, found through
    the tree's inner nodes (their state names the buckets without loading
    them), so they can be prefetched together."""
    keys = sorted(keys)
    if not keys:
        return []
    state = tree.__getstate__()
    if not state or len(state) < 2:        # empty, or one bucket kept inline
        return []
    data = state[0]
    children, separators = data[0::2], data[1::2]
    out, groups = [], {}
    for key in keys:
        groups.setdefault(bisect.bisect_right(separators, key), []).append(key)
    for index, group in groups.items():
        child = children[index]
        if type(child).__name__.endswith("Bucket"):
            out.append(child)
        else:
            out.extend(buckets_holding(child, group))
    return out


def prefetch_keys(pairs):
    """Prefetch, in one ZEO round trip, the buckets that lookups of these
    (tree, key) pairs will read."""
    buckets = []
    for tree, key in pairs:
        try:
            buckets.extend(buckets_holding(tree, [key]))
        except TypeError:          # a key of the wrong type for that tree
            pass
    prefetch(buckets)


def audit(request, note):
    """Record who did what on the request's transaction (the ZODB history
    shows it for ever): user = the signed-in principal, note = *note*."""
    txn = request.tm.get()
    ident = request.identity
    if ident is not None:
        txn.user = ident.userid
    txn.note(note)


def flash(request, message, **mapping):
    """A message for the next page, in the user's language (the session
    keeps plain text)."""
    from .i18n import _
    request.session.flash(request.localizer.translate(_(message, mapping=mapping or None)))
