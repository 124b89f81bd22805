"""Finding the account a payment is for, from what the payer typed."""
import re

from BTrees.LLBTree import intersection

from ..catalog import normalize
from ..interfaces import IContract


class BadAccount(ValueError):
    """The text cannot be an account reference at all (bad format)."""


_REFERENCE = re.compile(r"[A-Za-z0-9._@+\-]{1,64}", re.ASCII)


def contract_account(account):
    """Only a contract's personal account takes payments (not an agent's)."""
    if account is None or not IContract.providedBy(getattr(account, "__parent__", None)):
        return None
    return account


def payable_account(root, text):
    """The personal account named by an account number, contract number,
    Internet login or telephone number; None when there is none.

    Raises :class:`BadAccount` for text that cannot name anything,
    including a reference with spaces or line breaks around it: the
    payment channels take only the canonical spelling.
    """
    text = text or ""
    if not isinstance(text, str) or not _REFERENCE.fullmatch(text):
        raise BadAccount(f"{text!r} is not an account reference")
    catalog = root.catalog
    account = contract_account(catalog.accounts.get(text))
    if account is not None:
        return account
    contract = catalog.contracts.get(text)
    if contract is not None and contract.account is not None:
        return contract.account
    service = catalog.logins.get(text)
    if service is not None:
        return service.contract.account
    try:
        line = catalog.lines.get(normalize.phone(text))
    except normalize.InvalidValue:
        line = None
    if line is not None:
        return line.contract.account
    return None


def find_accounts(root, query, limit=20):
    """Cash desk search: exact references first, then subscribers by name words."""
    query = (query or "").strip()
    found = []
    try:
        account = payable_account(root, query)
    except BadAccount:
        account = None
    if account is not None:
        found.append(account)
    words = normalize.words(query)
    if words and account is None:
        ids = None
        for word in words:
            hits = root.catalog.words.ids_with_prefix(word)
            ids = hits if ids is None else intersection(ids, hits)
        subscribers = root["subscribers"]
        for sid in list(ids or [])[:limit]:
            sub = subscribers.get(sid)
            for contract in (sub.contracts() if sub is not None else ()):
                if contract.account is not None:
                    found.append(contract.account)
    return found[:limit]
