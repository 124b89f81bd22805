"""``/payments/cashdesk``: the cashier's workplace.

Each view declares its permission (the web security policy grants it from
the employee's roles, see :mod:`portmonet.payments.permissions`) and the
service functions check the same rule against the employee.  The work runs
in a transaction of its own (retried on conflict); the receipt is shown by
a redirect after it committed, and the form's token makes a second submit
of the same form a no-op.
"""
import secrets

from pyramid.httpexceptions import HTTPBadRequest, HTTPForbidden, HTTPFound
from pyramid.response import Response
from pyramid.view import view_config

from ... import clock
from ...money import MoneyError, format_amount, parse_typed
from .. import cashdesk
from ..interfaces import ICashDesk
from ..lookup import find_accounts, payable_account
from ..permissions import NotPermitted
from .unit import database, form_values, transact

TEMPLATE = "portmonet:payments/templates/cashdesk.pt"


def _login(request):
    login = request.authenticated_userid
    if not login:
        raise HTTPForbidden("log in first")
    return login


def _run(request, func, note):
    """func(root, staff) in its own transaction; errors become 400/403."""
    login = _login(request)

    def work(root):
        staff = root["staff"].get(login)
        if staff is None:
            raise NotPermitted(f"{login} is not an employee")
        return func(root, staff)
    try:
        return transact(database(request), work, login, note)
    except NotPermitted as exc:
        raise HTTPForbidden(str(exc))
    except (cashdesk.CashDeskError, MoneyError, ValueError) as exc:
        raise HTTPBadRequest(str(exc))


def _account(root, text):
    account = payable_account(root, text)
    if account is None:
        raise cashdesk.CashDeskError(f"no account {text!r}")
    return account


FIELDS = ("account", "amount", "token", "reason")


def _form(request, signed=False):
    """The desk form's fields (each once) and its amount in minor units:
    a positive canonical amount (:func:`money.parse_typed`), or with
    *signed* a correction's, which may start with a minus."""
    form = form_values(request, FIELDS)
    text = form.get("amount", "").strip()
    negative = signed and text.startswith("-")
    try:
        amount = parse_typed(text[1:] if negative else text)
    except MoneyError as exc:
        raise HTTPBadRequest(str(exc))
    return form, -amount if negative else amount


@view_config(context=ICashDesk, renderer=TEMPLATE, permission="take_payment",
             request_method="GET")
def desk(context, request):
    login = _login(request)
    query = request.params.get("q", "")
    found = find_accounts(request.root, query) if query else []
    shift = context.current_shift(login)
    return {"query": query, "found": found, "shift": shift, "token": secrets.token_hex(8),
            "format_amount": format_amount, "may_refund": bool(request.has_permission("refund")),
            "may_correct": bool(request.has_permission("correct"))}


@view_config(context=ICashDesk, name="open", permission="take_payment", request_method="POST")
def open_shift(context, request):
    _run(request, lambda root, staff: root["payments"].cashdesk.open_shift(staff) and None,
         "open a cash shift")
    return HTTPFound(request.resource_url(context))


@view_config(context=ICashDesk, name="close", permission="take_payment", request_method="POST",
             renderer="json")
def close_shift(context, request):
    return _run(request, lambda root, staff: root["payments"].cashdesk.close_shift(staff),
                "close a cash shift")


@view_config(context=ICashDesk, name="pay", permission="take_payment", request_method="POST")
def pay(context, request):
    form, amount = _form(request)
    token = form.get("token") or secrets.token_hex(8)
    number, _ = _run(request, lambda root, staff: cashdesk.take_payment(
        root, staff, _account(root, form.get("account", "")), amount, token),
        f"cash payment {token}")
    return HTTPFound(request.resource_url(context, "receipt", query={"no": number}))


@view_config(context=ICashDesk, name="refund", permission="refund", request_method="POST")
def refund(context, request):
    if not request.has_permission("refund", context):
        raise HTTPForbidden("refunds need the refund permission")
    form, amount = _form(request)
    token = form.get("token") or secrets.token_hex(8)
    number, _ = _run(request, lambda root, staff: cashdesk.refund(
        root, staff, _account(root, form.get("account", "")), amount,
        form.get("reason", ""), token), f"cash refund {token}")
    return HTTPFound(request.resource_url(context, "receipt", query={"no": number}))


@view_config(context=ICashDesk, name="correct", permission="correct", request_method="POST",
             renderer="json")
def correct(context, request):
    if not request.has_permission("correct", context):
        raise HTTPForbidden("corrections need the correct permission")
    form, amount = _form(request, signed=True)
    token = form.get("token") or secrets.token_hex(8)
    key = _run(request, lambda root, staff: cashdesk.correct(
        root, staff, _account(root, form.get("account", "")), amount,
        form.get("reason", ""), token).key, f"correction {token}")
    return {"posting": key}


def _receipt(context, request):
    """The fields of a receipt of the cashier's open shift."""
    login = _login(request)
    number = request.params.get("no", "")
    for shift in ([context.current_shift(login)] if context.current_shift(login) else []):
        held = shift.receipts.get(number)
        if held is not None:
            kind, account_no, amount, cause, key, reason, when = held
            account = request.root.catalog.accounts.get(account_no)
            subscriber = account.__parent__.__parent__
            return {"no": number, "kind": kind, "account": account_no,
                    "payer": subscriber.name, "amount": format_amount(amount, account.currency),
                    "currency": account.currency, "reason": reason, "cashier": login,
                    "posting": key, "when": clock.stamp(when)}
    raise HTTPBadRequest("no such receipt in your open shift")


@view_config(context=ICashDesk, name="receipt", permission="take_payment",
             renderer="portmonet:payments/templates/receipt.pt")
def receipt(context, request):
    return _receipt(context, request)


@view_config(context=ICashDesk, name="receipt.pdf", permission="take_payment")
def receipt_pdf(context, request):
    """The same receipt as a PDF, for the receipt printer."""
    from ..pdf import receipt_pdf as render
    data = _receipt(context, request)
    response = Response(render(data), content_type="application/pdf")
    response.headers["Content-Disposition"] = f'inline; filename="receipt-{data["no"]}.pdf"'
    response.headers["Cache-Control"] = "no-store"
    return response


@view_config(context=ICashDesk, name="day", permission="view_payments", renderer="json")
def day_totals(context, request):
    day = request.params.get("day", "")
    try:
        return context.day_totals(day)
    except ValueError:
        raise HTTPBadRequest("day is YYYY-MM-DD")
