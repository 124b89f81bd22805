"""The workplace's pages of workflows: the processes, a process with its
diagram, the work queue of the signed-in employee's roles, a request with
the moves its viewer may make, and a new request from the card; the
office's own requests (the subscriber's moves, a repair ticket)."""
import shutil
import subprocess

from pyramid.httpexceptions import HTTPFound, HTTPNotFound
from pyramid.view import view_config
from wtforms import SelectField, StringField, TextAreaField

from ..clock import now_us
from ..interfaces import ISubscriber
from ..web.acl import grant
from ..web.forms import BaseForm, V, choices
from ..web.helpers import audit, flash
from ..web.i18n import _
from ..web.views.forms import form_page
from .actions import WorkflowRefused
from .definition import DefinitionError, SUBSCRIBER
from .engine import available, start, subscriber_roles, take
from .interfaces import IInstance, IProcess, IWorkflows
from .library import install

TEMPLATES = "portmonet:workflow/templates/"
FORM = "portmonet:web/templates/form.pt"
MANAGE = "manage_workflows"
grant("administrator", MANAGE, doc="edit process definitions (workflows)")
grant(SUBSCRIBER, "office_requests", doc="see and move one's own requests in the office")


def staff_roles(request):
    identity = request.identity
    if identity is None or not identity.is_staff:
        return ()
    return tuple(identity.obj.roles)


@view_config(context=IWorkflows, renderer=TEMPLATES + "processes.pt", permission="view")
def processes(context, request):
    return {"page_title": _("Workflows"), "processes": context.processes(),
            "open": context.requests.open_count()}


@view_config(context=IWorkflows, name="queue", renderer=TEMPLATES + "queue.pt",
             permission="view")
def queue(context, request):
    """Open requests the signed-in employee's roles can move, oldest first;
    ``?process=`` and ``?overdue=1`` narrow it."""
    roles = staff_roles(request)
    rows = context.requests.for_roles(roles)
    process = request.params.get("process")
    if process:
        rows = [r for r in rows if r.process == process]
    now = now_us()
    if request.params.get("overdue"):
        rows = [r for r in rows if r.overdue(now)]
    return {"page_title": _("Work queue"), "rows": rows, "roles": roles, "now": now,
            "processes": context.processes(), "process": process}


class DefinitionForm(BaseForm):
    text = TextAreaField(_("Definition (YAML, docs/workflow.md)"),
                         [V.InputRequired(), V.Length(max=100_000)])


@view_config(context=IProcess, renderer=TEMPLATES + "process.pt", permission="view")
def process_page(context, request):
    definition = context.current
    form = DefinitionForm.from_request(request, data={"text": definition.source})
    if request.method == "POST" and request.has_permission(MANAGE):
        if form.validate():
            try:
                found, version = install(request.root, form.text.data)
            except DefinitionError as exc:
                request.tm.doom()
                form.add_error("text", "; ".join(exc.problems))
                request.response.status_int = 400
            else:
                audit(request, f"workflow {found.name} version {version}")
                flash(request, _("Version ${version} saved"), version=version)
                return HTTPFound(request.resource_url(found))
        else:
            request.response.status_int = 400
    return {"page_title": definition.title, "p": context, "d": definition, "form": form,
            "svg": diagram(definition), "can_edit": request.has_permission(MANAGE)}


def diagram(definition):
    """The process as an SVG drawn by Graphviz's ``dot`` (None without it)."""
    dot = shutil.which("dot")
    if dot is None:
        return None
    lines = ["digraph process {", "rankdir=LR;", 'node [shape=box, style=rounded, fontname="DejaVu Sans"];']
    for state in definition.states.values():
        shape = ', peripheries=2' if state.final else ''
        lines.append(f'"{state.name}" [label="{_dot(state.title)}"{shape}];')
    for t in definition.transitions:
        for source in t.sources:
            lines.append(f'"{source}" -> "{t.target}" [label="{_dot(t.title)}\\n'
                         f'{_dot(", ".join(t.roles))}", fontsize=9];')
    lines.append("}")
    try:
        out = subprocess.run([dot, "-Tsvg"], input="\n".join(lines), capture_output=True,
                             text=True, timeout=10, check=True).stdout
    except (subprocess.SubprocessError, OSError):
        return None
    return out[out.find("<svg"):]


def _dot(text):
    return text.replace("\\", "\\\\").replace('"', '\\"')


@view_config(context=IInstance, renderer=TEMPLATES + "request.pt", permission="view")
def request_page(context, request):
    return {"page_title": context.title, "r": context,
            "moves": available(context, staff_roles(request)), "now": now_us()}


@view_config(context=IInstance, name="take", request_method="POST", permission="view")
def take_view(context, request):
    """Take a transition; a move someone made in between is refused and said."""
    try:
        take(request.root, context, request.POST.get("transition", ""),
             request.identity.userid, staff_roles(request),
             comment=request.POST.get("comment", ""),
             expected_state=request.POST.get("state") or None)
    except (WorkflowRefused, ValueError) as exc:
        request.tm.doom()
        flash(request, _("Not done: ${why}"), why=str(exc))
    else:
        audit(request, f"request {context.__name__}: {request.POST.get('transition')}")
        flash(request, _("Done: ${state}"),
              state=context.definition.state(context.state).title)
    return HTTPFound(request.resource_url(context))


class NewRequestForm(BaseForm):
    workflow = SelectField(_("Process"))      # ("process" is the form's own method)
    contract = SelectField(_("Contract"), [V.Optional()])
    comment = StringField(_("Comment"), [V.Optional(), V.Length(max=500)])


@view_config(context=ISubscriber, name="new-request", renderer=FORM, permission="create")
def new_request(context, request):
    folder = request.root.get("workflows")
    if folder is None:
        raise HTTPNotFound()
    form = NewRequestForm.from_request(request)
    form.workflow.choices = choices((p.name, p.title) for p in folder.processes())
    form.contract.choices = choices([("", "-")] + [(c.number, c.number)
                                                   for c in context.contracts()])
    if request.method == "POST" and form.validate():
        process = folder[form.workflow.data]
        if process.current.subject == "contract":
            subject = f"contract:{form.contract.data}" if form.contract.data else None
        else:
            subject = f"subscriber:{context.id}"
        if subject is None:
            form.add_error("contract", _("this process is about a contract: choose one"))
        else:
            instance = start(request.root, process.name, subject, request.identity.userid,
                             comment=form.comment.data or "")
            audit(request, f"request {instance.__name__} ({process.name}) started")
            return HTTPFound(request.resource_url(instance))
    return form_page(request, form, _("New request"),
                     request.resource_url(context, "@@new-request"), submit=_("Start"),
                     context_title=context.name)


# -- the office ----------------------------------------------------------------
@view_config(context=ISubscriber, name="office-request", request_method="POST",
             permission="office")
def office_move(context, request):
    """The subscriber's own moves (withdraw, confirm, reopen) on their request."""
    folder = request.root.get("workflows")
    instance = folder.requests.get(request.POST.get("request", "")) if folder else None
    if instance is None or not subscriber_roles(instance, context.id):
        raise HTTPNotFound()
    try:
        take(request.root, instance, request.POST.get("transition", ""), f"office:{context.id}",
             (SUBSCRIBER,), comment=request.POST.get("comment", ""),
             expected_state=request.POST.get("state") or None)
    except (WorkflowRefused, ValueError) as exc:
        request.tm.doom()
        flash(request, _("Not done: ${why}"), why=str(exc))
    return HTTPFound(request.resource_url(context, "@@office"))


class RepairForm(BaseForm):
    comment = TextAreaField(_("What does not work?"), [V.InputRequired(), V.Length(max=500)])


@view_config(context=ISubscriber, name="office-repair", renderer=FORM, permission="office")
def office_repair(context, request):
    """Report a problem: a repair ticket of this subscriber."""
    if request.root.get("workflows") is None or "repair" not in request.root["workflows"]:
        raise HTTPNotFound()
    form = RepairForm.from_request(request)
    if request.method == "POST" and form.validate():
        instance = start(request.root, "repair", f"subscriber:{context.id}",
                         f"office:{context.id}", comment=form.comment.data)
        flash(request, _("Your ticket ${key} is open"), key=instance.__name__)
        return HTTPFound(request.resource_url(context, "@@office"))
    return form_page(request, form, _("Report a problem"),
                     request.resource_url(context, "@@office-repair"), submit=_("Send"))
