"""The OSMP protocol's short way in: a WSGI filter in front of Pyramid.

A terminal's request needs none of what Pyramid gives a page (session,
security policy, traversal on a connection of its own, pyramid_tm): the
agent, its allow-list and its credentials are checked, and the payment
booked and journaled, by the process's group committer in its own
transaction (:mod:`portmonet.payments.committer`).  So the request thread
only reads the request, hands it over and writes the XML answer: no ZODB
connection is opened per request and no object is loaded twice.

``/payments/<name>/osmp`` takes the short way only for names this process
has seen to be OSMP agents (:data:`KNOWN`); any other name goes through
Pyramid, whose traversal answers 404 for what is not an agent and whose
OSMP view (:mod:`portmonet.payments.views.osmp`) uses the same
:func:`handle`, and so adds the name.  An agent removed later is answered
404 by the committer and forgotten.
"""
import base64
import logging
import re
from urllib.parse import parse_qsl

from . import osmp
from .clock import now_us
from .agents import credentials_ok
from .canonical import NotCanonical, single
from .interfaces import IOsmpAgent

log = logging.getLogger("portmonet.payments.osmp")

PATH = re.compile(r"^/payments/([a-z0-9][a-z0-9_-]{0,39})/(?:@@)?osmp/?$")
PARAMS = ("command", "txn_id", "txn_date", "account", "sum")
NAMES = PARAMS + ("login", "password")
MAX_BODY = 64 * 1024          # what the journal keeps (it marks a longer body truncated)
# (database, name) of the OSMP agents this process has served (a hint: the
# committer looks the agent up again in its transaction).
KNOWN = set()
_STATUS = {200: "200 OK", 403: "403 Forbidden", 404: "404 Not Found"}


# (database, name) -> the agent's (login, password hash) as the committer
# last saw it: the request thread checks the caller's credentials against it
# (argon2, when needed, runs there), so the single committer thread only
# compares — a flood of forged passwords cannot stall everyone's payments.
CREDENTIALS = {}


class Call:
    """What a request thread hands over: the protocol parameters, the
    credentials, the caller's address and the raw journal fields;
    *checked* is ``((login, password hash), ok)`` when the request thread
    has checked the credentials already."""

    __slots__ = ("agent", "params", "login", "password", "remote", "raw", "checked",
                 "malformed")

    def __init__(self, agent, params, login, password, remote, raw, malformed=""):
        self.agent, self.params, self.login, self.password = agent, params, login, password
        self.remote, self.raw, self.checked = remote, raw, None
        self.malformed = malformed        # why the request is not canonical, or ""

    def precheck(self, db):
        held = CREDENTIALS.get((id(db), self.agent))
        if held is not None:
            self.checked = (held, credentials_ok(held, self.login, self.password))

    def credentials_ok(self, db, agent):
        held = agent.credentials()
        CREDENTIALS[(id(db), self.agent)] = held
        if self.checked is not None and self.checked[0] == held:
            return self.checked[1]
        return credentials_ok(held, self.login, self.password)


def basic_credentials(header):
    """(login, password) of an HTTP Basic Authorization header, or None."""
    scheme, _, token = (header or "").partition(" ")
    if scheme.lower() != "basic" or not token:
        return None
    try:
        login, _, password = base64.b64decode(token.strip()).decode("utf-8").partition(":")
    except (ValueError, UnicodeDecodeError):
        return (None, None)
    return login, password


def decide(root, call, db=None):
    """In the committer's transaction: ``(status, outcome, (answer, http status))``."""
    agent = root["payments"].get(call.agent)
    params = call.params
    if agent is None or not IOsmpAgent.providedBy(agent):
        return "rejected", "no such agent", (None, 404)
    if not agent.allows(call.remote):
        log.warning("osmp %s: request from %s refused (not in the allow-list)",
                    call.agent, call.remote)
        return ("rejected", f"address {call.remote} not allowed",
                (osmp.answer(params, 8, comment="address not allowed"), 403))
    if not call.credentials_ok(db, agent):
        log.warning("osmp %s: bad credentials from %s", call.agent, call.remote)
        return ("rejected", "bad credentials",
                (osmp.answer(params, 8, comment="bad credentials"), 403))
    if call.malformed:
        log.warning("osmp %s: malformed request from %s: %s", call.agent, call.remote,
                    call.malformed)
        return ("rejected", f"malformed: {call.malformed}",
                (osmp.answer(params, 300, comment=call.malformed), 200))
    command = params.get("command")
    if command == "check":
        ans = osmp.check(root, agent, params)
        return ("done" if ans.result == 0 else "rejected",
                f"check result={ans.result} {ans.comment}", (ans, 200))
    if command == "pay":
        ans = osmp.pay(root, agent, params, user=f"osmp:{call.agent}")
        return ("done" if ans.result == 0 else "rejected",
                f"pay result={ans.result} prv_txn={ans.prv_txn} {ans.comment}", (ans, 200))
    return ("rejected", f"unknown command {command!r}",
            (osmp.answer(params, 300, comment="unknown command"), 200))


def prefetch(root, calls):
    """Before a group commit does its calls: load what they will read in a
    few round trips (see :func:`osmp.prefetch`)."""
    osmp.prefetch(root, [c.params.get("account", "") for c in calls
                         if c.params.get("command") == "pay"])


def handle(db, settings, call):
    """Journal and do *call* in the group commit; ``(http status, XML body)``.

    Only a committed answer is given; anything else is "temporary error,
    repeat later" (result 1): the terminal repeats the same txn_id, and a
    payment that did commit meanwhile answers as it did the first time.
    """
    from .committer import committer_for
    committer = committer_for(db, settings)
    params = call.params
    try:
        ans, status = committer.submit(
            call.raw, lambda root: decide(root, call, db),
            f"osmp {params.get('command')} txn_id={params.get('txn_id', '')}",
            hint=call, prefetch=prefetch)
    except Exception:
        log.exception("osmp %s: %s txn_id=%s failed", call.agent, params.get("command"),
                      params.get("txn_id"))
        return 200, osmp.to_xml(osmp.answer(params, 1))
    if ans is None:
        KNOWN.discard((id(db), call.agent))
        return status, None
    KNOWN.add((id(db), call.agent))
    return status, osmp.to_xml(ans)


def raw_fields(agent, remote, method, path, query, body, headers):
    return dict(channel="osmp", agent=agent, remote=remote or "", method=method, path=path,
                query=query, body=body, headers=headers, ext_id="", received_us=now_us())


def make_call(agent, pairs, credentials, remote, raw):
    """A :class:`Call` from the request's (name, value) pairs; without
    HTTP Basic *credentials* the ``login``/``password`` parameters are.
    Values are taken as sent (no trimming: only the canonical spelling is
    accepted); a parameter given twice makes the call malformed (result
    300), never "last one wins"."""
    malformed = ""
    try:
        given = single(pairs, NAMES)
    except NotCanonical as exc:
        malformed, given = str(exc), dict(pairs)
    params = {k: given[k] for k in PARAMS if k in given}
    if credentials is None:
        credentials = (given.get("login"), given.get("password"))
    raw["ext_id"] = params.get("txn_id", "")[:40]
    return Call(agent, params, credentials[0], credentials[1], remote, raw, malformed)


class Gate:
    """WSGI filter: ``/payments/<known agent>/osmp`` here, the rest to *app*."""

    def __init__(self, app, db, settings):
        self.app, self.db, self.settings = app, db, settings
        from ..web.headers import headers_for
        self.headers = list(headers_for(settings).items())

    def __getattr__(self, name):       # app.registry etc., as Pyramid's router has them
        return getattr(self.app, name)

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        method = environ.get("REQUEST_METHOD")
        if not path.startswith("/payments/") or method not in ("GET", "POST"):
            return self.app(environ, start_response)
        found = PATH.match(path)
        if found is None or (id(self.db), found.group(1)) not in KNOWN:
            return self.app(environ, start_response)
        agent = found.group(1)
        query = environ.get("QUERY_STRING", "")
        body = b""
        ctype = environ.get("CONTENT_TYPE", "")
        if method == "POST":
            try:
                length = int(environ.get("CONTENT_LENGTH") or 0)
            except ValueError:
                length = 0
            body = environ["wsgi.input"].read(min(length, MAX_BODY + 1)) if length > 0 else b""
        pairs = parse_qsl(query, keep_blank_values=True)
        if body and ctype.startswith("application/x-www-form-urlencoded"):
            pairs += parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True)
        headers = [(name, environ[key]) for name, key in (
            ("Content-Type", "CONTENT_TYPE"), ("User-Agent", "HTTP_USER_AGENT"),
            ("X-Forwarded-For", "HTTP_X_FORWARDED_FOR")) if environ.get(key)]
        remote = environ.get("REMOTE_ADDR", "")
        raw = raw_fields(agent, remote, method, environ.get("SCRIPT_NAME", "") + path,
                         query, body, headers)
        credentials = basic_credentials(environ.get("HTTP_AUTHORIZATION"))
        call = make_call(agent, pairs, credentials, remote, raw)
        call.precheck(self.db)
        status, xml = handle(self.db, self.settings, call)
        if xml is None:
            xml, ctype_out = b"Not Found", "text/plain; charset=utf-8"
        else:
            ctype_out = "text/xml; charset=utf-8"
        start_response(_STATUS.get(status, f"{status} Error"),
                       [("Content-Type", ctype_out), ("Content-Length", str(len(xml)))]
                       + self.headers)
        return [xml]


def wrap(app, registry):
    """The WSGI filter over the Pyramid *app* (see :mod:`portmonet.web`)."""
    db = registry._zodb_databases[""]
    return Gate(app, db, registry.settings)

