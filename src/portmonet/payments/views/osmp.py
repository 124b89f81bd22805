"""``/payments/<agent>/osmp``: the OSMP check/pay protocol over HTTP."""
import base64
import logging

from pyramid.response import Response
from pyramid.security import NO_PERMISSION_REQUIRED
from pyramid.view import view_config

from .. import osmp
from ..interfaces import IOsmpAgent
from .unit import finish_alone, journal_request, process

log = logging.getLogger("portmonet.payments.osmp")


def xml_response(ans, status=200):
    return Response(osmp.to_xml(ans), status=status, content_type="text/xml", charset="utf-8")


def _credentials(request):
    """HTTP Basic credentials, else ``login``/``password`` parameters."""
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() == "basic" and token:
        try:
            login, _, password = base64.b64decode(token.strip()).decode("utf-8").partition(":")
        except (ValueError, UnicodeDecodeError):
            return None, None
        return login, password
    return request.params.get("login"), request.params.get("password")


@view_config(context=IOsmpAgent, name="osmp", permission=NO_PERMISSION_REQUIRED,
             request_method=("GET", "POST"),
             # a machine protocol, authenticated per request (signature or agent
             # credentials), with no session cookie to forge: no CSRF token
             require_csrf=False)
def osmp_view(context, request):
    agent = context.__name__
    params = {k: v.strip() for k, v in request.params.items()
              if k in ("command", "txn_id", "txn_date", "account", "sum")}
    try:
        key = journal_request(request, "osmp", agent, ext_id=params.get("txn_id", ""))
    except Exception:
        # Not journaled, so not processed: the terminal repeats it later.
        log.exception("osmp %s: cannot journal a request", agent)
        return xml_response(osmp.answer(params, 1))
    if not context.allows(request.remote_addr):
        log.warning("osmp %s: request from %s refused (not in the allow-list)",
                    agent, request.remote_addr)
        finish_alone(request, key, "rejected", f"address {request.remote_addr} not allowed")
        return xml_response(osmp.answer(params, 8, comment="address not allowed"), 403)
    login, password = _credentials(request)
    if not context.check_credentials(login, password):
        log.warning("osmp %s: bad credentials from %s", agent, request.remote_addr)
        finish_alone(request, key, "rejected", "bad credentials")
        return xml_response(osmp.answer(params, 8, comment="bad credentials"), 403)
    command = params.get("command")
    if command not in ("check", "pay"):
        finish_alone(request, key, "rejected", f"unknown command {command!r}")
        return xml_response(osmp.answer(params, 300, comment="unknown command"))

    def work(root):
        held = root["payments"][agent]
        if command == "check":
            ans = osmp.check(root, held, params)
        else:
            ans = osmp.pay(root, held, params, user=f"osmp:{agent}")
        return ("done" if ans.result == 0 else "rejected",
                f"{command} result={ans.result} prv_txn={ans.prv_txn} {ans.comment}", ans)
    try:
        ans = process(request, key, work, f"osmp:{agent}",
                      f"osmp {command} txn_id={params.get('txn_id', '')}")
    except Exception as exc:
        # Nothing was committed: the terminal may repeat the same txn_id.
        log.exception("osmp %s: %s txn_id=%s failed", agent, command, params.get("txn_id"))
        finish_alone(request, key, "error", repr(exc))
        ans = osmp.answer(params, 1)
    return xml_response(ans)
