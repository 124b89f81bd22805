"""The HTTP SMS gateway's delivery reports: ``POST /notify/sms-report``
with JSON ``{"id": <the gateway's message id>, "status": "DELIVRD"}``
(the field names are ``notify.http_sms.report_id`` / ``report_status``),
authenticated by the shared token ``notify.http_sms.callback_token`` in
the ``X-Portmonet-Token`` header; a machine protocol with no session
cookie, so no CSRF token."""
import hmac
import json

from pyramid.security import NO_PERMISSION_REQUIRED
from pyramid.view import view_config

from .. import receipts
from ..interfaces import INotify


def _refuse(request, status, why):
    # answered here, not raised: the forbidden view would send a machine
    # to the staff sign-in page
    request.response.status_int = status
    return {"ok": False, "error": why}


@view_config(context=INotify, name="sms-report", request_method="POST", renderer="json",
             permission=NO_PERMISSION_REQUIRED, require_csrf=False)
def sms_report(context, request):
    settings = request.registry.settings
    token = settings.get("notify.http_sms.callback_token", "")
    given = request.headers.get("X-Portmonet-Token", "")
    if not token or not hmac.compare_digest(token.encode(), given.encode()):
        return _refuse(request, 403, "bad token")
    try:
        body = json.loads(request.body or b"{}")
        ext_id = body[settings.get("notify.http_sms.report_id", "id")]
        status = body[settings.get("notify.http_sms.report_status", "status")]
    except (ValueError, KeyError, TypeError):
        return _refuse(request, 400, "JSON with the message id and status expected")
    message = receipts.record(request.root, "http", ext_id, status)
    if message is None:
        return _refuse(request, 404, "unknown message id")
    return {"ok": True, "delivery": message.delivery}
