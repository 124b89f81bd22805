"""Back-office views of ``/payments``: agents, the journal, the bank
suspense queue, reconciliation.  JSON for now; the web workplace renders
them (each declares the permission it needs)."""
import datetime

from pyramid.httpexceptions import HTTPBadRequest, HTTPForbidden
from pyramid.view import view_config

from ... import clock
from ..agents import AgentError, OsmpAgent, Provider
from ..bank import assign
from ..interfaces import IBank, IJournal, IPayments
from ..reconcile import reconcile
from .unit import database, transact


def _user(request):
    user = request.authenticated_userid
    if not user:
        raise HTTPForbidden("log in first")
    return user


@view_config(context=IPayments, renderer="json", permission="view_payments")
def agents(context, request):
    return [{"name": a.name, "protocol": a.protocol, "title": a.title, "allow": list(a.allow),
             "active": a.active, "account": a.account.number if a.account else None,
             "url": request.resource_url(a, a.protocol)} for a in context.agents()]


@view_config(context=IPayments, name="add-agent", renderer="json", permission="manage_agents",
             request_method="POST")
def add_agent(context, request):
    """Create an agent (``protocol=osmp``) or a provider (``protocol=callback``)."""
    post = request.POST
    name, protocol = post.get("name", ""), post.get("protocol", "")
    allow = [a for a in post.get("allow", "").replace(",", " ").split() if a]

    def add(root):
        payments = root["payments"]
        if name in payments:
            raise AgentError(f"agent {name!r} exists")
        if protocol == "osmp":
            if not allow:
                raise AgentError("an OSMP agent needs an allowed address")
            agent = OsmpAgent(name, allow, post.get("login") or None,
                              post.get("password") or None, post.get("title", ""))
        elif protocol == "callback":
            agent = Provider(name, post.get("secret", ""), allow, post.get("title", ""),
                             post.get("pay_url", ""))
        else:
            raise AgentError("protocol is osmp or callback")
        payments.add_agent(agent, root.catalog)
        return agent.account.number
    try:
        number = transact(database(request), add, _user(request), f"add payment agent {name}")
    except ValueError as exc:
        raise HTTPBadRequest(str(exc))
    return {"name": name, "protocol": protocol, "account": number}


@view_config(context=IJournal, renderer="json", permission="view_payments")
def journal(context, request):
    """Search: channel, agent, status, text, from/to (YYYY-MM-DD, the
    operator's days, both included), limit."""
    p = request.params

    def bounds(name):
        """[start, end) µs of the day named by parameter *name*, or None."""
        if not p.get(name):
            return None
        try:
            return clock.day_bounds_us(datetime.date.fromisoformat(p[name]))
        except ValueError:
            raise HTTPBadRequest(f"{name} is YYYY-MM-DD")
    first, last = bounds("from"), bounds("to")
    found = context.search(p.get("channel"), p.get("agent"), p.get("status"), p.get("text"),
                           first and first[0], last and last[1],
                           limit=min(int(p.get("limit", 100) or 100), 1000))
    return [{"key": e.key, "received_us": e.received_us, "channel": e.channel, "agent": e.agent,
             "remote": e.remote, "method": e.method, "path": e.path, "query": e.query,
             "body": e.text(), "status": e.status, "outcome": e.outcome, "ext_id": e.ext_id}
            for e in found]


@view_config(context=IBank, renderer="json", permission="view_payments")
def suspense(context, request):
    return [dict(zip(("ref", "date", "amount", "currency", "payer", "payer_tax_id",
                      "payer_account", "purpose"), item.line), bank=item.bank)
            for item in context.waiting_items()]


@view_config(context=IBank, name="assign", renderer="json", permission="assign_payment",
             request_method="POST")
def assign_view(context, request):
    user = _user(request)
    post = request.POST
    try:
        key = transact(database(request), lambda root: assign(
            root, post.get("bank", ""), post.get("ref", ""), post.get("account", ""), user).key,
            user, f"assign bank payment {post.get('ref', '')}")
    except (KeyError, ValueError) as exc:
        raise HTTPBadRequest(str(exc))
    return {"posting": key}


@view_config(context=IPayments, name="reconcile", renderer="json", permission="view_payments")
def reconcile_view(context, request):
    channel, day = request.params.get("channel", ""), request.params.get("day", "")
    try:
        datetime.date.fromisoformat(day)
    except ValueError:
        raise HTTPBadRequest("day is YYYY-MM-DD")
    return reconcile(request.root, channel, day)
