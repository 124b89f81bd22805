"""The money ledger: accounts, immutable postings, the books check."""
from .account import Account, InsufficientFunds, now_us  # noqa: F401
from .posting import KINDS, Posting, PostingError  # noqa: F401
