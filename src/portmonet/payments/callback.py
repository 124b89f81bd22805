"""The signed JSON callback API of card gateways, e-money and SMS aggregators.

``POST /payments/<provider>/callback`` with a JSON body
``{"type": "check"|"pay"|"cancel", "id": ..., "account": ..., "amount": "12.34",
"currency": "RUB", "original_id": ... (cancel)}`` and the headers

* ``X-Portmonet-Timestamp``: Unix seconds when the provider signed;
* ``Idempotency-Key``: the provider's key for this request;
* ``X-Portmonet-Signature``: hex HMAC-SHA256 under the provider's secret of
  ``timestamp + "." + idempotency key + "." + body``.

A bad signature or a timestamp outside the provider's window is refused
(401) and logged.  A request repeated with the same key gets the first
answer (``"replayed": true``) and changes nothing; the same key with
another body is refused (409).  A payment id posts once whatever key
carries it.  See docs/payments.md.
"""
import hashlib
import hmac
import json
import re
import time

from ..money import CURRENCY_EXPONENTS, MoneyError, format_amount, parse_canonical
from .canonical import NotCanonical, number, token
from .clock import now_us
from .credit import DuplicateMismatch, credit
from .lookup import BadAccount, payable_account

# Canonical (docs/payments.md): the headers in ASCII — timestamp decimal
# digits without leading zeros, key 1-100 of A-Z a-z 0-9 . _ : -, signature
# 64 hex digits; the body one JSON object without a repeated name, its id
# a string token, its amount a decimal string with a dot.
_KEY = re.compile(r"[A-Za-z0-9._:\-]+", re.ASCII)
_ID = re.compile(r"[A-Za-z0-9._\-]+", re.ASCII)
_SIGNATURE = re.compile(r"[0-9a-fA-F]{64}", re.ASCII)


class Refused(Exception):
    """A request refused before processing: (HTTP status, code, message)."""

    def __init__(self, status, code, message):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def sign(secret, timestamp, key, body):
    if isinstance(secret, str):
        secret = secret.encode()
    return hmac.new(secret, f"{timestamp}.{key}.".encode() + body, hashlib.sha256).hexdigest()


def verify(provider, headers, body, now=None):
    """Authenticate a request; returns (idempotency key, parsed body) or raises Refused."""
    try:
        stamp = number(headers.get("X-Portmonet-Timestamp", ""), "timestamp", 12)
        key = token(headers.get("Idempotency-Key", ""), "key", _KEY, 100)
        signature = token(headers.get("X-Portmonet-Signature", ""), "signature", _SIGNATURE, 64)
    except NotCanonical:
        raise Refused(401, "unsigned", "timestamp, idempotency key and signature are required "
                                       "(ASCII: digits; A-Z a-z 0-9 . _ : -; 64 hex digits)") from None
    expected = sign(provider.secret(), stamp, key, body)
    if not hmac.compare_digest(expected.encode(), signature.lower().encode()):
        raise Refused(401, "bad_signature", "the signature does not match")
    now = time.time() if now is None else now
    if abs(now - int(stamp)) > provider.max_skew_s:
        raise Refused(401, "stale", "the timestamp is outside the accepted window")
    try:
        data = json.loads(body.decode("utf-8"), object_pairs_hook=_no_repeats)
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise Refused(400, "bad_json", "the body is not JSON (or repeats a name)") from None
    if not isinstance(data, dict):
        raise Refused(400, "bad_json", "the body is not a JSON object")
    return key, data


def _no_repeats(pairs):
    """A JSON object whose names are each given once (two "amount"s are an
    error, not "last one wins")."""
    out = dict(pairs)
    if len(out) != len(pairs):
        raise ValueError("a name is repeated in a JSON object")
    return out


def _id(data, name):
    """A payment id of the body: a JSON string of A-Z a-z 0-9 . _ - (an
    opaque token, compared as given); None if it is anything else."""
    try:
        return token(data.get(name), name, _ID, 64)
    except NotCanonical:
        return None


def _answer(status, code, message, **fields):
    out = {"status": status, "code": code, "message": message}
    out.update(fields)
    return out


def handle(root, provider, key, body, data, user):
    """Process an authenticated request in the caller's transaction."""
    digest = hashlib.sha256(body).hexdigest()
    held = provider.txns.get(key)
    if held is not None:
        if held[0] != digest:
            raise Refused(409, "key_reused", "this idempotency key was used for another request")
        return dict(json.loads(held[1]), replayed=True)
    ans = _process(root, provider, data, user)
    provider.txns[key] = (digest, json.dumps(ans), now_us())
    return dict(ans, replayed=False)


def _process(root, provider, data, user):
    kind = data.get("type")
    pay_id = _id(data, "id")
    shown = pay_id or ""
    if kind not in ("check", "pay", "cancel"):
        return _answer("rejected", "bad_type", "type is check, pay or cancel", id=shown)
    if pay_id is None:
        return _answer("rejected", "bad_id", "id is a string of 1-64 letters, digits, . _ -",
                       id=shown)
    if kind == "cancel":
        return _cancel(root, provider, data, pay_id, user)
    currency = data.get("currency", provider.currency)
    if not isinstance(currency, str) or currency not in CURRENCY_EXPONENTS:
        return _answer("rejected", "bad_currency", "currency is an ISO 4217 code", id=pay_id)
    try:
        amount = parse_canonical(data.get("amount"), currency)
    except MoneyError as exc:
        return _answer("rejected", "bad_amount", str(exc), id=pay_id)
    if amount < max(provider.min_sum, 1) or amount > provider.max_sum:
        return _answer("rejected", "bad_amount", "amount out of the accepted range", id=pay_id)
    account_text = data.get("account", "")
    try:
        if not isinstance(account_text, str):
            raise BadAccount("account is a string")
        account = payable_account(root, account_text)
    except BadAccount:
        return _answer("rejected", "bad_account", "not an account reference", id=pay_id)
    if account is None:
        return _answer("rejected", "account_not_found", "no such account", id=pay_id)
    if account.__parent__.status == "terminated":
        return _answer("rejected", "account_closed", "the contract is terminated", id=pay_id)
    if account.currency != currency:
        return _answer("rejected", "bad_currency", f"the account is in {account.currency}",
                       id=pay_id)
    if kind == "check":
        return _answer("ok", "ok", "payment possible", id=pay_id)
    try:
        posting, created = credit(root, account, amount, "callback", provider.name, pay_id,
                                  f"{provider.title}: payment {pay_id}", user)
    except DuplicateMismatch as exc:
        return _answer("rejected", "duplicate_mismatch", str(exc), id=pay_id)
    if created and provider.account is not None:
        provider.account.post(-amount, "transfer", f"agent:{provider.name}:{pay_id}",
                              text=f"collected for account {account.number}", user=user)
    return _answer("ok", "ok" if created else "duplicate",
                   "paid" if created else "this payment id was already paid",
                   id=pay_id, payment_id=str(posting.key),
                   amount=format_amount(posting.amount, account.currency))


def _cancel(root, provider, data, pay_id, user):
    original = _id(data, "original_id")
    where = (root.catalog.causes.get(f"callback:{provider.name}:{original}")
             if original is not None else None)
    if where is None:
        return _answer("rejected", "not_found", "no such payment to cancel", id=pay_id)
    account = root.catalog.accounts.get(where[0])
    paid = account.ledger[where[1]]
    posting, created = credit(root, account, -paid.amount, "callback", provider.name,
                              f"cancel-{original}", f"{provider.title}: cancelled {original}",
                              user, kind="refund")
    if created and provider.account is not None:
        provider.account.post(paid.amount, "transfer", f"agent:{provider.name}:cancel-{original}",
                              text=f"cancelled for account {account.number}", user=user)
    return _answer("ok", "ok" if created else "duplicate",
                   "cancelled" if created else "already cancelled", id=pay_id,
                   payment_id=str(posting.key),
                   amount=format_amount(-posting.amount, account.currency))


def start_url(provider, order, account, amount, now=None, return_url=""):
    """Where the office sends a subscriber to pay by card (signed, so the
    provider can trust the account, amount and return address it shows)."""
    from urllib.parse import urlencode
    stamp = str(int(time.time() if now is None else now))
    fields = {"order": order, "account": account, "amount": amount, "ts": stamp}
    if return_url:
        fields["return"] = return_url
    query = urlencode(fields)
    sig = sign(provider.secret(), stamp, order, query.encode())
    return f"{provider.pay_url}?{query}&sig={sig}"
