"""``/payments/<agent>/osmp``: the OSMP check/pay protocol over HTTP.

Requests for an agent this process already served take the short way in
(:mod:`portmonet.payments.gate`, a WSGI filter); this view serves the first
one (and any when the filter is not installed) with the same code.
"""
from pyramid.response import Response
from pyramid.security import NO_PERMISSION_REQUIRED
from pyramid.view import view_config

from .. import gate
from ..interfaces import IOsmpAgent
from .unit import database


@view_config(context=IOsmpAgent, name="osmp", permission=NO_PERMISSION_REQUIRED,
             request_method=("GET", "POST"),
             # a machine protocol, authenticated per request (signature or agent
             # credentials), with no session cookie to forge: no CSRF token
             require_csrf=False)
def osmp_view(context, request):
    """The agent, the caller and the payment are checked by the group
    committer in its transaction, with the journal entry; the answer is
    built only after that commit."""
    pairs = list(request.params.items())
    body = request.body or b""
    raw = gate.raw_fields(context.__name__, request.remote_addr, request.method, request.path,
                          request.query_string, body,
                          list(request.headers.items()))
    call = gate.make_call(context.__name__, pairs,
                          gate.basic_credentials(request.headers.get("Authorization")),
                          request.remote_addr or "", raw)
    call.precheck(database(request))
    status, xml = gate.handle(database(request), request.registry.settings, call)
    if xml is None:
        return Response(b"Not Found", status=404, content_type="text/plain", charset="utf-8")
    return Response(xml, status=status, content_type="text/xml", charset="utf-8")
