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

from ..web.i18n import _
from ..web.navigation import if_present


def includeme(config):
    """Its views and pages (``config.scan``), the payments panel, the
    office's payment links, the cash desk and agents in the navigation."""
    config.include(".panels")
    config.add_wsgi_filter(".gate.wrap")
    config.include(".views.office")
    config.add_link("nav", "cashdesk", _("Cash desk"), if_present("payments", "payments/cashdesk/"),
                    order=30, permission="take_payment")
    config.add_link("nav", "agents", _("Payment agents"), if_present("payments", "payments/@@agents"),
                    order=40, permission="view_payments")
    config.scan(ignore=[".tests"])
