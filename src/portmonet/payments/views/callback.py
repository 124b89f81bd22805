"""``/payments/<provider>/callback`` (the signed JSON API) and the office's
card payment start/return pages."""
import json
import logging
import secrets

from pyramid.httpexceptions import HTTPBadRequest, HTTPFound
from pyramid.response import Response
from pyramid.security import NO_PERMISSION_REQUIRED
from pyramid.view import view_config

from .. import callback
from ...money import MoneyError, format_amount, parse_typed
from ..interfaces import IProvider
from ..lookup import BadAccount, payable_account
from .unit import form_values, submit

log = logging.getLogger("portmonet.payments.callback")


def json_response(data, status=200):
    return Response(json.dumps(data), status=status, content_type="application/json",
                    charset="utf-8")


@view_config(context=IProvider, name="callback", permission=NO_PERMISSION_REQUIRED,
             request_method="POST",
             # a machine protocol, authenticated per request (signature or agent
             # credentials), with no session cookie to forge: no CSRF token
             require_csrf=False)
def callback_view(context, request):
    """Authenticates here; the journal entry and the booking are written
    together by the process's group committer, and the answer is sent only
    after that commit."""
    provider = context.__name__
    body = request.body or b""
    refused = data = idem = None
    try:
        if not context.allows(request.remote_addr):
            raise callback.Refused(403, "address", "address not allowed")
        idem, data = callback.verify(context, request.headers, body)
    except callback.Refused as exc:
        log.warning("callback %s from %s refused: %s", provider, request.remote_addr, exc.code)
        refused = exc

    def work(root):
        if refused is not None:
            return "rejected", f"{refused.code}: {refused.message}", refused
        try:
            ans = callback.handle(root, root["payments"][provider], idem, body, data,
                                  user=f"callback:{provider}")
        except callback.Refused as exc:
            return "rejected", f"{exc.code}: {exc.message}", exc
        return ("done" if ans["status"] == "ok" else "rejected",
                f"{data.get('type')} {ans['code']} replayed={ans['replayed']}", ans)
    note = (f"callback {data.get('type')} id={data.get('id')}" if data is not None
            else "callback refused")
    try:
        ans = submit(request, "callback", provider, work, note,
                     ext_id=request.headers.get("Idempotency-Key", "")[:100])
    except Exception:
        log.exception("callback %s failed", provider)
        return json_response({"status": "error", "code": "temporary",
                              "message": "not processed, repeat later"}, 503)
    if isinstance(ans, callback.Refused):
        return json_response({"status": "refused", "code": ans.code, "message": ans.message},
                             ans.status)
    return json_response(ans)


@view_config(context=IProvider, name="start", permission="pay_online", request_method="POST")
def start_card_payment(context, request):
    """The office's "pay by card": redirect to the provider's payment page."""
    if not context.pay_url:
        raise HTTPBadRequest("this provider takes no card payments from the office")
    form = form_values(request, ("account", "amount"))
    account = form.get("account", "")
    try:
        amount = parse_typed(form.get("amount", ""))
        found = payable_account(request.root, account)
    except (MoneyError, BadAccount) as exc:
        raise HTTPBadRequest(str(exc))
    if found is None or amount <= 0:
        raise HTTPBadRequest("no such account" if found is None else "a positive amount")
    return card_payment_redirect(request, context, account, amount)


def card_payment_redirect(request, provider, account_no, amount):
    """The redirect to *provider*'s signed payment page for *amount* (minor
    units) onto *account_no*; the subscriber comes back to ``@@return``.
    Used by ``@@start`` and by the office's "Top up" page."""
    order = secrets.token_hex(12)
    back = request.resource_url(provider, "return", query={"order": order})
    return HTTPFound(location=callback.start_url(provider, order, account_no,
                                                 format_amount(amount), return_url=back))


@view_config(context=IProvider, name="return", permission=NO_PERMISSION_REQUIRED,
             renderer="portmonet:payments/templates/card_return.pt")
def card_payment_return(context, request):
    """Where the provider sends the subscriber back: is the order paid yet?
    (Public: the order is an unguessable id, and the session cookie, being
    SameSite=Strict, does not come along on a redirect from the provider.)"""
    order = request.params.get("order", "")
    where = request.root.catalog.causes.get(f"callback:{context.__name__}:{order}")
    paid = where is not None
    return {"page_title": "Card payment", "order": order, "paid": paid,
            "amount": _paid_amount(request.root, where) if paid else None}


def _paid_amount(root, where):
    account = root.catalog.accounts.get(where[0])
    return format_amount(account.posting(where[1]).amount, account.currency)
