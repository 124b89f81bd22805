"""The RADIUS pages of the workplace: the NAS registry, online sessions, a
session with its traffic (and the kick), the CoA/Disconnect send log.

Permissions: the registry is ``manage_equipment``; sessions and the send
log are ``view``; kicking a session and retrying a send are ``block`` (the
Disconnect goes through the outbox: it is sent after this request's
transaction commits).
"""
import itertools
import uuid

from pyramid.httpexceptions import HTTPBadRequest, HTTPFound, HTTPNotFound
from pyramid.view import view_config

from ..interfaces import IEquipmentFolder, IInternetService, IRoot
from ..ledger.account import now_us
from ..web.helpers import audit, flash
from ..web.i18n import _
from ..web.views.forms import form_page
from . import coa
from .forms import NasForm
from .interfaces import INas
from .nas import Nas, NasError, add_nas, nases, normalize_address

PAGE = 50
FORM = "portmonet:web/templates/form.pt"


def _page_start(request):
    try:
        return max(0, int(request.GET.get("start", 0)))
    except ValueError:
        raise HTTPBadRequest("start must be a number")


def _paged(iterable, start, size=PAGE):
    rows = list(itertools.islice(iterable, start, start + size + 1))
    return rows[:size], (start + size if len(rows) > size else None)


# -- the NAS registry ---------------------------------------------------------

@view_config(context=IEquipmentFolder, name="nas", renderer="templates/nas_list.pt",
             permission="manage_equipment")
def nas_list(context, request):
    return {"page_title": "NAS", "nases": nases(request.root)}


def _apply_form(nas, form, root):
    if form.address.data:
        address = normalize_address(form.address.data)
        other = next((n for n in nases(root) if n.address == address and n is not nas), None)
        if other is not None:
            raise NasError(f"a NAS with address {address} exists ({other.name})")
        nas.address = address
    vendor = form.vendor.data
    if vendor not in ("generic", "mikrotik", "cisco"):
        raise NasError("unknown vendor")
    nas.vendor = vendor
    nas.coa_port = int(form.coa_port.data) if form.coa_port.data else None
    if nas.coa_port is not None and not 0 < nas.coa_port < 65536:
        raise NasError("a port is 1 to 65535")
    nas.access_point = form.access_point.data or ""
    if form.secret.data:
        nas.set_secret(form.secret.data)


@view_config(context=IEquipmentFolder, name="add-nas", renderer=FORM,
             permission="manage_equipment")
def nas_add(context, request):
    form = NasForm.from_request(request)
    if request.method == "POST" and form.validate():
        if not form.secret.data:
            form.add_error("secret", "a new NAS needs a shared secret")
        elif form.name.data in context:
            form.add_error("name", "this name exists")
        else:
            try:
                nas = Nas(form.name.data, form.address.data, form.secret.data, form.vendor.data)
                _apply_form(nas, form, request.root)
                add_nas(request.root, nas)
            except NasError as exc:
                form.add_error("address", str(exc))
            else:
                audit(request, f"NAS {nas.name} ({nas.address}) added")
                flash(request, "NAS ${name} added", name=nas.name)
                return HTTPFound(request.resource_url(context, "@@nas"))
    return form_page(request, form, "New NAS", request.resource_url(context, "@@add-nas"))


@view_config(context=INas, name="edit", renderer=FORM, permission="manage_equipment")
def nas_edit(context, request):
    form = NasForm.from_request(request, data={
        "name": context.name, "address": context.address, "vendor": context.vendor,
        "coa_port": str(context.coa_port or ""), "access_point": context.access_point})
    del form.name
    if request.method == "POST" and form.validate():
        try:
            _apply_form(context, form, request.root)
        except NasError as exc:
            form.add_error("address", str(exc))
        else:
            audit(request, f"NAS {context.name} changed" +
                  (" (new shared secret)" if form.secret.data else ""))
            flash(request, "NAS ${name} saved", name=context.name)
            return HTTPFound(request.resource_url(context))
    return form_page(request, form, "NAS", request.resource_url(context, "@@edit"),
                     context_title=context.name)


@view_config(context=INas, name="remove", renderer="templates/nas_remove.pt",
             permission="manage_equipment")
def nas_remove(context, request):
    if request.method == "POST":
        from .accounting import close
        root = request.root
        for session in list(context.online.values()):
            close(root, context, session, now_us(), "NAS-Removed")
        name = context.name
        context.__parent__.remove(name)
        audit(request, f"NAS {name} removed")
        flash(request, "NAS ${name} removed", name=name)
        return HTTPFound(request.resource_url(root["equipment"], "@@nas"))
    return {"page_title": "Remove NAS", "nas": context, "online": len(context.online)}


@view_config(context=INas, renderer="templates/nas.pt", permission="view")
def nas_view(context, request):
    start = _page_start(request)
    rows, more = _paged(context.online.values(), start)
    return {"page_title": f"NAS {context.name}", "nas": context, "sessions": rows,
            "more": more, "online": len(context.online)}


# -- sessions ---------------------------------------------------------------

@view_config(context=IRoot, name="sessions", renderer="templates/sessions.pt", permission="view")
def sessions_online(context, request):
    """Online sessions now, all NASes or one (?nas=NAME)."""
    wanted = request.GET.get("nas", "")
    chosen = [n for n in nases(context) if not wanted or n.name == wanted]
    if wanted and not chosen:
        raise HTTPNotFound(f"no NAS {wanted}")
    start = _page_start(request)
    rows, more = _paged(itertools.chain.from_iterable(n.online.values() for n in chosen), start)
    return {"page_title": "Online sessions", "sessions": rows, "more": more,
            "nas_name": wanted, "nases": nases(context),
            "total": sum(len(n.online) for n in chosen)}


def _session(context, request):
    sid = request.params.get("id", "")
    session = context.sessions.get(sid) if sid else None
    if session is None:
        raise HTTPNotFound("no such session")
    return session


@view_config(context=INas, name="session", renderer="templates/session.pt", permission="view")
def session_page(context, request):
    session = _session(context, request)
    service = request.root.catalog.logins.get(session.login)
    messages = [m for m in coa_messages(request.root, 200)
                if m.payload.get("login") == session.login][:20]
    return {"page_title": f"Session {session.session_id}", "s": session, "nas": context,
            "service": service, "messages": messages,
            "duration": (session.stop_us or session.last_us) - session.start_us}


@view_config(context=INas, name="kick", request_method="POST", permission="block")
def session_kick(context, request):
    session = _session(context, request)
    if not session.online:
        flash(request, "The session is closed already")
    else:
        user = request.identity.userid if request.identity is not None else "web"
        reason = (request.POST.get("reason") or "kicked by staff")[:200]
        coa.request_disconnect(request.root, session.login, reason, user,
                               key=f"kick:{context.name}:{session.session_id}:{uuid.uuid4().hex}",
                               session_id=session.session_id, nas=context.name)
        audit(request, f"kick session {session.session_id} of {session.login} on {context.name}")
        flash(request, "Disconnect of ${login} queued", login=session.login)
    return HTTPFound(request.resource_url(context, "@@session", query={"id": session.session_id}))


# -- the CoA / Disconnect send log ----------------------------------------------

def coa_messages(root, limit=PAGE, start=0, state=None):
    """Messages of the outbox channel ``radius``, newest first."""
    outbox = getattr(root, "outbox", None)
    if outbox is None:
        return []
    values = (m for m in outbox.newest(coa.CHANNEL) if state is None or m.state == state)
    return list(itertools.islice(values, start, start + limit))


@view_config(context=IRoot, name="coa-log", renderer="templates/coa_log.pt", permission="view")
def coa_log(context, request):
    state = request.GET.get("state") or None
    if state is not None and state not in ("queued", "sent", "failed", "given-up"):
        raise HTTPBadRequest("unknown state")
    start = _page_start(request)
    rows = coa_messages(context, PAGE + 1, start, state)
    return {"page_title": "CoA / Disconnect", "messages": rows[:PAGE],
            "more": start + PAGE if len(rows) > PAGE else None, "state": state or ""}


@view_config(context=IRoot, name="coa-retry", request_method="POST", permission="block")
def coa_retry(context, request):
    key = request.POST.get("key", "")
    try:
        message = coa.retry(context, key)
    except KeyError:
        raise HTTPNotFound("no such message")
    audit(request, f"retry {message.payload.get('action')} of {message.payload.get('login')}")
    flash(request, "Send queued again")
    return HTTPFound(request.resource_url(context, "@@coa-log"))


# The kick button of a contract page's Internet service.
@view_config(context=IInternetService, name="kick", request_method="POST", permission="block")
def kick_session(context, request):
    """End the service's online sessions: the RADIUS process sends the
    Disconnect after this transaction commits (outbox)."""
    outbox = getattr(request.root, "outbox", None)
    if outbox is None:
        flash(request, _("No outbox in this database: run 'portmonet evolve'"))
    else:
        coa.request_disconnect(request.root, context.login, "kicked by staff",
                           request.authenticated_userid or "",
                           key=f"kick:{context.login}:{uuid.uuid4().hex}")
        audit(request, f"kick sessions of {context.login}")
        flash(request, _("Disconnect of ${login} queued"), login=context.login)
    return HTTPFound(request.resource_url(context.__parent__))
