"""The administrator's object inspector: any object of the database, by
traversal or by oid; its attributes, children and history; edit simple
fields with validation; undo a transaction where the storage allows it."""
import transaction
from persistent import Persistent
from pyramid.httpexceptions import HTTPBadRequest, HTTPFound, HTTPNotFound
from pyramid.view import view_config
from ZODB.POSException import POSError
from ZODB.utils import p64, u64
from wtforms import BooleanField, IntegerField, StringField, validators

from ...catalog import DuplicateKeyError
from ...interfaces import IRoot
from ...model.indexing import Indexed
from ..forms import SIMPLE_NAME, BaseForm
from ..helpers import audit, flash
from ..i18n import _
from ..history import _is_secret, _show, object_history

MAX_CHILDREN = 50


def _state(obj):
    obj._p_activate() if isinstance(obj, Persistent) else None
    state = obj.__getstate__() if isinstance(obj, Persistent) else getattr(obj, "__dict__", {})
    if isinstance(state, tuple):
        state = state[0] or {}
    return dict(state) if isinstance(state, dict) else {}


def _class_defaults(obj):
    """Simple public class-level defaults (a StaffUser's failed_logins): an
    object that never changed them carries none in its state."""
    out = {}
    for cls in reversed(type(obj).__mro__):
        for name, value in vars(cls).items():
            if type(value) in (str, int, bool) and SIMPLE_NAME.match(name):
                out[name] = value
    return out


# Keys of an object in its folder and in the indexes: never edited in place.
FIXED = {"id", "number"}


def _editable(name, value):
    return (SIMPLE_NAME.match(name) and name not in FIXED and not _is_secret(name)
            and type(value) in (str, int, bool))


def _form_class(fields):
    attrs = {}
    for name, value in fields:
        if type(value) is bool:
            attrs[name] = BooleanField(name)
        elif type(value) is int:
            attrs[name] = IntegerField(name, [validators.InputRequired(),
                                              validators.NumberRange(-2**62, 2**62)])
        else:
            attrs[name] = StringField(name, [validators.Optional(), validators.Length(max=2000)])
    return type("InspectForm", (BaseForm,), attrs)


def _target(context, request):
    oid = request.params.get("oid")
    if not oid:
        return context
    try:
        number = int(oid, 16)
        return request.root._p_jar.get(p64(number))
    except (ValueError, KeyError, POSError):
        raise HTTPNotFound()


def _link(request, value):
    if isinstance(value, Persistent) and value._p_oid is not None:
        return request.resource_url(request.root, "@@inspect", query={"oid": f"{u64(value._p_oid):x}"})
    return None


def _children(request, obj):
    items = getattr(obj, "items", None)
    if items is None or not callable(items):
        return []
    rows = []
    try:
        for key, value in items():
            rows.append((key, _show("", value), _link(request, value)))
            if len(rows) >= MAX_CHILDREN:
                break
    except TypeError:
        return []
    return rows


@view_config(name="inspect", renderer="portmonet:web/templates/inspect.pt", permission="admin_db")
def inspect(context, request):
    obj = _target(context, request)
    state = dict(_class_defaults(obj), **_state(obj))
    # An attribute holding the object's own name in its folder is its key:
    # changing it in place would orphan the object.
    key = getattr(obj, "__name__", None)
    editable = [(k, v) for k, v in sorted(state.items())
                if _editable(k, v) and not (key is not None and v == key and k != "title")]
    form_cls = _form_class(editable)
    form = form_cls.from_request(request, data=dict(editable))
    if request.method == "POST":
        if form.validate():
            changes = {name: getattr(form, name).data for name, value in editable
                       if getattr(form, name).data != value}
            if changes:
                try:
                    _apply(obj, changes)
                except (ValueError, AttributeError, DuplicateKeyError) as exc:
                    request.tm.doom()
                    request.response.status_int = 400
                    form.form_errors = [str(exc)]
                else:
                    audit(request, f"inspector: {type(obj).__name__} {_oid(obj)} "
                                   f"changed {', '.join(sorted(changes))}")
                    flash(request, f"Saved: {', '.join(sorted(changes))}")
                    return HTTPFound(request.url)
        else:
            request.response.status_int = 400
    attrs = [(k, type(v).__name__, _show(k, v), _link(request, v)) for k, v in sorted(state.items())]
    db = request.root._p_jar.db()
    return {"page_title": _("Inspector"), "obj": obj, "oid": _oid(obj), "cls": type(obj).__name__,
            "fields": attrs, "form": form, "children": _children(request, obj),
            "history": object_history(obj, size=10, diff=True) if isinstance(obj, Persistent) else [],
            "can_undo": db.supportsUndo(), "action": request.url,
            "parent": _link(request, getattr(obj, "__parent__", None)),
            "form_errors": getattr(form, "form_errors", [])}


def _oid(obj):
    oid = getattr(obj, "_p_oid", None)
    return f"{u64(oid):x}" if oid else ""


def _apply(obj, changes):
    if isinstance(obj, Indexed):
        known = {k: v for k, v in changes.items() if hasattr(type(obj), k)}
        if known:
            obj.update(**known)       # the model validates and reindexes
        rest = {k: v for k, v in changes.items() if k not in known}
    else:
        rest = changes
    for name, value in rest.items():
        normalize = getattr(obj, f"_normalize_{name}", None)
        setattr(obj, name, normalize(value) if normalize else value)


class _NoUndo(Exception):
    pass


@view_config(context=IRoot, name="undo", request_method="POST", permission="admin_db")
def undo(context, request):
    """Undo one transaction in a transaction of its own, so a refusal (a later
    change on the same objects) is reported instead of failing the page."""
    undo_id = request.POST.get("id", "")
    if not undo_id or len(undo_id) > 64:
        raise HTTPBadRequest()
    db = context._p_jar.db()
    tm = transaction.TransactionManager()
    if not db.supportsUndo():
        flash(request, _("This storage cannot undo"))
        undo_id = None
    try:
        if undo_id is None:
            raise _NoUndo()
        txn = tm.begin()
        txn.user = request.identity.userid
        txn.note(f"undo of transaction {undo_id}")
        db.undo(undo_id.encode("ascii"), txn)
        tm.commit()
        flash(request, _("Transaction undone"))
    except _NoUndo:
        pass
    except (POSError, ValueError, TypeError) as exc:
        tm.abort()
        flash(request, f"Cannot undo: {exc}")
    came = request.POST.get("came_from", "")
    if not came.startswith(request.application_url + "/"):
        came = request.resource_url(context, "@@inspect")
    return HTTPFound(came)
