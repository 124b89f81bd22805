"""``/payments/<agent>/osmp``: the OSMP check/pay protocol over HTTP."""
import base64
import logging

from pyramid.response import Response
from pyramid.security import NO_PERMISSION_REQUIRED
from pyramid.view import view_config

from .. import osmp
from ..interfaces import IOsmpAgent
from .unit import submit

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
    """Checks the caller here; the journal entry and the payment are then
    written together by the process's group committer, and the answer is
    built only after that commit."""
    agent = context.__name__
    params = {k: v.strip() for k, v in request.params.items()
              if k in ("command", "txn_id", "txn_date", "account", "sum")}
    command = params.get("command")
    refusal = status = None
    if not context.allows(request.remote_addr):
        log.warning("osmp %s: request from %s refused (not in the allow-list)",
                    agent, request.remote_addr)
        refusal = f"address {request.remote_addr} not allowed"
        ans, status = osmp.answer(params, 8, comment="address not allowed"), 403
    elif not context.check_credentials(*_credentials(request)):
        log.warning("osmp %s: bad credentials from %s", agent, request.remote_addr)
        refusal = "bad credentials"
        ans, status = osmp.answer(params, 8, comment="bad credentials"), 403
    elif command not in ("check", "pay"):
        refusal = f"unknown command {command!r}"
        ans = osmp.answer(params, 300, comment="unknown command")
    elif command == "check":
        # Read-only: answered from this request's view of the database.
        ans = osmp.check(request.root, context, params)
    else:
        # The same checks, read-only, before the committer repeats them in its
        # transaction: they load the account into this process's ZEO cache,
        # so the committer (one thread for the whole process) does not wait
        # on the network.
        osmp.warm(request.root, context, params)
        ans = None

    def work(root):
        if refusal is not None:
            return "rejected", refusal, ans
        if ans is not None:
            return ("done" if ans.result == 0 else "rejected",
                    f"check result={ans.result} {ans.comment}", ans)
        paid = osmp.pay(root, root["payments"][agent], params, user=f"osmp:{agent}")
        return ("done" if paid.result == 0 else "rejected",
                f"pay result={paid.result} prv_txn={paid.prv_txn} {paid.comment}", paid)
    try:
        result = submit(request, "osmp", agent, work,
                        f"osmp {command} txn_id={params.get('txn_id', '')}",
                        ext_id=params.get("txn_id", ""))
    except Exception:
        # Not committed: the terminal may repeat the same txn_id.
        log.exception("osmp %s: %s txn_id=%s failed", agent, command, params.get("txn_id"))
        return xml_response(osmp.answer(params, 1))
    return xml_response(result, status or 200)
