"""Payments: every channel that puts money on an account.

``/payments`` holds the payment agents and providers (each serves its own
protocol at its place in the tree: ``/payments/<agent>/osmp``,
``/payments/<provider>/callback``), the raw request journal, the bank
suspense queue, the cash desk, prepaid cards, wallets and the register of
what each channel received (for reconciliation and ``portmonet check``).

Every channel credits through :func:`portmonet.payments.credit.credit`, so a
payment posts once per external id, unblocks a debtor and queues the
"payment received" notification in one place.
"""


def includeme(config):
    """Its views and pages (``config.scan``)."""
    config.scan(ignore=[".tests"])
