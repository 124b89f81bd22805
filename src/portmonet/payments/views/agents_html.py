"""The payment agents' pages: list, add (allow-list, credentials or
signing secret), disable and enable.  Behind ``manage_agents``
(administrators); the list also for ``view_payments``."""
from pyramid.httpexceptions import HTTPFound
from pyramid.view import view_config

from ...web.helpers import audit, flash
from ...web.views.forms import form_page
from ..agents import KINDS, AgentError
from ..forms import AgentForm
from ..interfaces import IAgent, IPayments

FORM = "portmonet:web/templates/form.pt"


@view_config(context=IPayments, name="agents", permission="view_payments",
             renderer="portmonet:payments/templates/agents.pt", request_method="GET")
def agent_list(context, request):
    return {"page_title": "Payment agents", "agents": context.agents(),
            "may_manage": bool(request.has_permission("manage_agents", context))}


@view_config(context=IPayments, name="agents-add", permission="manage_agents", renderer=FORM)
def agent_add(context, request):
    form = AgentForm.from_request(request)
    if request.method == "POST" and form.validate():
        name = form.name.data
        allow = form.allow.data.split()
        try:
            if name in context:
                raise AgentError(f"an agent {name!r} exists")
            if form.protocol.data == "osmp":
                agent = KINDS["osmp"](name, allow, form.login.data or None,
                                      form.password.data or None, title=form.title.data)
            else:
                agent = KINDS["callback"](name, form.secret.data, allow, title=form.title.data,
                                          pay_url=form.pay_url.data or "")
            context.add_agent(agent, request.root.catalog)
        except (AgentError, ValueError) as exc:
            form.add_error("name", str(exc))
        else:
            audit(request, f"payment agent {name} added ({form.protocol.data}, "
                           f"allow {' '.join(allow) or 'any'})")
            flash(request, "Agent added")
            return HTTPFound(request.resource_url(context, "@@agents"))
    return form_page(request, form, "New payment agent",
                     request.resource_url(context, "@@agents-add"))


def _set_active(context, request, active):
    context.active = active
    audit(request, f"payment agent {context.__name__} {'enabled' if active else 'disabled'}")
    return HTTPFound(request.resource_url(context.__parent__, "@@agents"))


@view_config(context=IAgent, name="disable", permission="manage_agents", request_method="POST")
def agent_disable(context, request):
    """A disabled agent's requests are answered "forbidden" (OSMP result 8)."""
    return _set_active(context, request, False)


@view_config(context=IAgent, name="enable", permission="manage_agents", request_method="POST")
def agent_enable(context, request):
    return _set_active(context, request, True)
