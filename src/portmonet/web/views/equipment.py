"""Equipment (``/equipment``) and partner operators (``/operators``): list,
add, edit.  Both are plain folders of named objects, so one set of views
serves both, told apart by a :class:`Kind` (folder interface, factory,
form, permission).  A NAS is a device the RADIUS feature owns: listed here,
edited on its own pages."""
from pyramid.httpexceptions import HTTPFound, HTTPNotFound
from pyramid.view import view_config

from ...interfaces import IEquipment, IEquipmentFolder, IOperator, IOperators
from ...model.folder import FolderKeyError
from ...model.simple import Device, Operator
from .. import acl
from ..forms import DeviceForm, OperatorForm
from ..helpers import audit, flash
from ..i18n import _
from .forms import form_page

acl.grant("administrator", "manage_operators", doc="add and change partner operators")
acl.grant("accountant", "manage_operators")

LIST = "portmonet:web/templates/named_list.pt"
FORM = "portmonet:web/templates/form.pt"
PAGE = 100


class Kind:
    def __init__(self, what, factory, form, permission, fields, extra=()):
        self.what = what                  # for notes and titles
        self.factory = factory
        self.form = form
        self.permission = permission
        self.fields = fields              # constructor fields after the name
        self.extra = extra                # attributes set after construction


DEVICES = Kind("device", Device, DeviceForm, "manage_equipment", ("kind", "address", "vendor", "title"))
OPERATORS = Kind("operator", Operator, OperatorForm, "manage_operators", ("title",),
                 extra=("agreement", "contact", "notes"))


def _kind(context):
    return DEVICES if IEquipmentFolder.providedBy(context) or IEquipment.providedBy(context) \
        else OPERATORS


@view_config(context=IEquipmentFolder, renderer=LIST, permission="view")
@view_config(context=IOperators, renderer=LIST, permission="view")
def listing(context, request):
    kind = _kind(context)
    after = request.GET.get("after", "")[:64]
    rows = []
    for name, obj in context.items(after or None):
        if after and name <= after:
            continue
        rows.append(obj)
        if len(rows) >= PAGE:
            break
    more = (request.resource_url(context, query={"after": rows[-1].__name__})
            if len(rows) >= PAGE else None)
    return {"page_title": context.title, "rows": rows, "more": more, "total": len(context),
            "can_add": request.has_permission(kind.permission, context),
            "devices": kind is DEVICES}


def _save(obj, form, kind):
    for field in kind.fields + kind.extra:
        setattr(obj, field, getattr(form, field).data or "")
    if not obj.title:
        obj.title = obj.name


@view_config(context=IEquipmentFolder, name="add", renderer=FORM, permission="manage_equipment")
@view_config(context=IOperators, name="add", renderer=FORM, permission="manage_operators")
def add(context, request):
    kind = _kind(context)
    form = kind.form.from_request(request)
    if request.method == "POST" and form.validate():
        name = form.name.data
        if name in context:
            form.add_error("name", _("this name is taken"))
        else:
            try:
                obj = kind.factory(name, **{f: getattr(form, f).data or "" for f in kind.fields})
                _save(obj, form, kind)
                context.add(name, obj)
            except (ValueError, FolderKeyError) as exc:
                request.tm.doom()
                form.add_error("name", exc)
            else:
                audit(request, f"{kind.what} {name} added")
                flash(request, _("Saved"))
                return HTTPFound(request.resource_url(context))
    return form_page(request, form, _("New"), request.resource_url(context, "@@add"),
                     context_title=context.title)


@view_config(context=IEquipment, renderer=FORM, permission="manage_equipment")
@view_config(context=IEquipment, name="edit", renderer=FORM, permission="manage_equipment")
@view_config(context=IOperator, renderer=FORM, permission="manage_operators")
@view_config(context=IOperator, name="edit", renderer=FORM, permission="manage_operators")
def edit(context, request):
    kind = _kind(context)
    if kind is DEVICES and getattr(context, "kind", "") == "nas":
        raise HTTPNotFound()        # the RADIUS feature's pages edit a NAS
    form = kind.form.from_request(request, data={
        f: getattr(context, f, "") or "" for f in ("name",) + kind.fields + kind.extra})
    del form.name               # the name is the object's place in the tree
    if request.method == "POST" and form.validate():
        _save(context, form, kind)
        audit(request, f"{kind.what} {context.__name__} edited")
        flash(request, _("Saved"))
        return HTTPFound(request.resource_url(context.__parent__))
    return form_page(request, form, _("Edit"), request.resource_url(context, "@@edit"),
                     context_title=context.__name__)
