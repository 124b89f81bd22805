"""E-wallets: a subscriber's wallet account, transfers, auto-payment.

A wallet is a contract of its own (number ``<subscriber id>-W``, no
services) so that its account is found, topped up and checked like any
other.  A transfer is two ``transfer`` postings with one reference; the
outgoing one must not overdraw (``readCurrent``), so two transfers spending
the same money cannot both commit.  A transfer to another subscriber waits
until the payer confirms it with the code sent to them.
"""
import hashlib
import hmac
import secrets

from BTrees.OOBTree import OOBTree
from persistent import Persistent

from ..ledger.account import InsufficientFunds
from ..outbox import seal
from .clock import now_us

CODE_TTL_US = 15 * 60 * 1_000_000
MAX_CODE_TRIES = 3


class WalletError(ValueError):
    pass


class PendingTransfer(Persistent):
    status = "pending"            # pending, done, refused
    tries = 0

    def __init__(self, ref, source, target, amount, user, code_digest):
        self.ref = ref
        self.source = source          # account numbers
        self.target = target
        self.amount = amount
        self.user = user
        self.code_digest = code_digest
        self.created_us = now_us()


class Wallets(Persistent):
    __name__ = "wallets"
    __parent__ = None

    def __init__(self):
        self.by_subscriber = OOBTree()    # subscriber id -> wallet account number
        self.pending = OOBTree()          # ref -> PendingTransfer

    def wallet_of(self, root, subscriber):
        number = self.by_subscriber.get(subscriber.id)
        return root.catalog.accounts.get(number) if number else None

    def open(self, root, subscriber, user=""):
        held = self.wallet_of(root, subscriber)
        if held is not None:
            return held
        contract = subscriber.new_contract(number=f"{subscriber.id}-W", user=user)
        self.by_subscriber[subscriber.id] = contract.account.number
        return contract.account


def owner(account):
    return account.__parent__.__parent__


def _move(source, target, amount, ref, user, kind="transfer", text=""):
    if source is target:
        raise WalletError("source and target are the same account")
    if source.currency != target.currency:
        raise WalletError("accounts in different currencies")
    if not isinstance(amount, int) or amount <= 0:
        raise WalletError("a transfer is a positive amount")
    try:
        out, created = source.post(-amount, kind, f"{ref}:out", text or f"to {target.number}",
                                   user, must_not_overdraw=True)
    except InsufficientFunds as exc:
        raise WalletError(str(exc)) from None
    if created:
        target.post(amount, kind, f"{ref}:in", text or f"from {source.number}", user)
    return out


def transfer_own(source, target, amount, user, ref=None):
    """Between one subscriber's own accounts: done at once."""
    if owner(source) is not owner(target):
        raise WalletError("not the same subscriber's accounts: the payer must confirm")
    return _move(source, target, amount, f"wallet:{ref or secrets.token_hex(8)}", user)


def _digest(ref, code):
    return hashlib.sha256(f"{ref}:{code}".encode()).digest()


def request_transfer(root, source, target, amount, user):
    """To another subscriber: queue a code to the payer; returns (ref, pending)."""
    if not isinstance(amount, int) or amount <= 0:
        raise WalletError("a transfer is a positive amount")
    if source.available < amount:
        raise WalletError(f"{amount} needed, {source.available} available")
    ref = f"wallet:{secrets.token_hex(8)}"
    code = f"{secrets.randbelow(10**6):06d}"
    pending = PendingTransfer(ref, source.number, target.number, amount, user, _digest(ref, code))
    root["payments"].wallets.pending[ref] = pending
    payer = owner(source)
    root.outbox.queue("sms", f"transfer-code:{ref}", {
        "template": "transfer confirmation", "to": getattr(payer, "phone", None),
        "subscriber": getattr(payer, "id", None), "sealed": seal(code=code), "amount": amount,
        "target": target.number})
    return ref, pending


def confirm_transfer(root, ref, code, user):
    pending = root["payments"].wallets.pending.get(ref)
    if pending is None or pending.status != "pending":
        raise WalletError("no such transfer waiting")
    if now_us() - pending.created_us > CODE_TTL_US:
        pending.status = "refused"
        raise WalletError("the confirmation code has expired")
    if not hmac.compare_digest(_digest(ref, code or ""), pending.code_digest):
        pending.tries += 1
        if pending.tries >= MAX_CODE_TRIES:
            pending.status = "refused"
        raise WalletError("wrong confirmation code")
    accounts = root.catalog.accounts
    posting = _move(accounts.get(pending.source), accounts.get(pending.target),
                    pending.amount, ref, user)
    pending.status = "done"
    return posting


def autopay(root, contract, due, period, user="portmonet billing"):
    """Pay *due* of *contract*'s fees for *period* from its auto-payment
    source (e.g. the wallet), up to the agreed limit; returns the amount
    moved (0 when the source cannot pay).  Once per contract and period."""
    if not contract.autopay_enabled or not contract.autopay_source or due <= 0:
        return 0
    source = root.catalog.accounts.get(contract.autopay_source)
    if source is None or source is contract.account:
        return 0
    amount = min(due, contract.autopay_limit) if contract.autopay_limit else due
    amount = min(amount, max(source.available, 0))
    if amount <= 0:
        return 0
    _move(source, contract.account, amount, f"autopay:{contract.number}:{period}", user,
          text=f"auto-payment {period}")
    return amount
