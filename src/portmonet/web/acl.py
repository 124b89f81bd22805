"""Who may do what: staff roles -> permissions, and the ACLs on resources.

The mapping is the documented contract (docs/web.md repeats it).  ACLs are
class attributes the web layer puts on the core resource classes at
configuration, so the model stays free of web imports; Pyramid's ACL helper
walks ``__parent__`` from the context up to the root.

A feature whose views need a permission of its own declares it with
:func:`grant` at import time (its ``views`` module), so the root's ACL
knows it; the names the payments feature uses are granted here already.
"""
from pyramid.authorization import DENY_ALL, Allow

PERMISSIONS = {
    "view": "see subscribers, contracts, ledgers, search, dashboard",
    "create": "add subscribers, contracts and services; decide applications",
    "edit": "change subscribers, contracts and services; change a tariff",
    "block": "block, unblock, suspend a contract; kick a session",
    "take_payment": "take a payment at the cash desk",
    "refund": "refund postings",
    "correct": "correction postings",
    "view_payments": "see payment journals, channels and bank statements",
    "assign_payment": "assign an unrecognised bank payment to an account",
    "manage_agents": "add and change payment agents and channels",
    "activate_card": "activate a scratch card for a subscriber",
    "manage_cards": "issue and withdraw batches of scratch cards",
    "sell_cards": "sell scratch cards",
    "view_reports": "see figures and reports (the dashboard's plots)",
    "view_history": "see the change history (who, when, what)",
    "manage_equipment": "equipment and NAS",
    "manage_staff": "add and change staff users and their roles",
    "admin_db": "the object inspector: edit fields, undo transactions",
}

ROLE_PERMISSIONS = {
    "administrator": tuple(PERMISSIONS),
    # Payments permissions as the payments feature's own map
    # (portmonet.payments.permissions) gives them, so both agree.
    "manager": ("view", "create", "edit", "block", "take_payment", "refund", "activate_card",
                "manage_cards", "sell_cards", "view_payments", "view_reports", "view_history"),
    "cashier": ("view", "take_payment", "activate_card", "view_payments"),
    "accountant": ("view", "correct", "view_payments", "assign_payment", "view_reports",
                   "view_history"),
    "engineer": ("view", "block", "manage_equipment"),
    "dealer": ("view", "create", "activate_card", "sell_cards"),
    "auditor": ("view", "view_payments", "view_reports", "view_history"),
}

# An office session's principals are ``subscriber:<id>`` and ``role:subscriber``.
# ``office`` is granted on the subscriber's own objects only (its ACL); the
# permissions below, at the root, are for features' office views outside the
# subscriber's subtree (online payment, scratch cards), which must themselves
# check whose account they touch.
OFFICE_PERMISSION = "office"
SUBSCRIBER_ROLE = "subscriber"
OFFICE_ROOT_PERMISSIONS = ("pay_online", "activate_card")

_root_acl = None


def role_principal(role):
    return f"role:{role}"


def subscriber_principal(subscriber_id):
    return f"subscriber:{subscriber_id}"


def grant(role, *permissions, doc=""):
    """Give *role* (a staff role, or 'subscriber') more permissions."""
    global OFFICE_ROOT_PERMISSIONS, _root_acl
    for perm in permissions:
        PERMISSIONS.setdefault(perm, doc)
    if role == SUBSCRIBER_ROLE:
        OFFICE_ROOT_PERMISSIONS = tuple(dict.fromkeys(OFFICE_ROOT_PERMISSIONS + permissions))
    elif role in ROLE_PERMISSIONS:
        ROLE_PERMISSIONS[role] = tuple(dict.fromkeys(ROLE_PERMISSIONS[role] + permissions))
    else:
        raise ValueError(f"unknown role {role!r}")
    _root_acl = None


def root_acl():
    global _root_acl
    if _root_acl is None:
        acl = []
        for role, perms in ROLE_PERMISSIONS.items():
            acl.extend((Allow, role_principal(role), perm) for perm in perms)
        acl.extend((Allow, role_principal(SUBSCRIBER_ROLE), perm)
                   for perm in OFFICE_ROOT_PERMISSIONS)
        acl.append(DENY_ALL)
        _root_acl = acl
    return _root_acl


def _subscriber_acl(self):
    # Only this subscriber's office session; staff rights come from the root.
    return [(Allow, subscriber_principal(self.id), OFFICE_PERMISSION)]


def install():
    from ..model.root import Root
    from ..model.subscriber import Subscriber
    Root.__acl__ = property(lambda self: root_acl())
    Subscriber.__acl__ = property(_subscriber_acl)
