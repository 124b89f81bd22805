"""Who may do what: staff roles -> permissions, and the ACLs on resources.

The mapping is the documented contract (docs/web.md repeats it).  ACLs are
class attributes the web layer puts on the core resource classes at
configuration, so the model stays free of web imports; Pyramid's ACL helper
walks ``__parent__`` from the context up to the root.
"""
from pyramid.authorization import DENY_ALL, Allow

PERMISSIONS = {
    "view": "see subscribers, contracts, ledgers, search, dashboard",
    "create": "add subscribers, contracts and services",
    "edit": "change subscribers, contracts and services",
    "block": "block, unblock, suspend a contract",
    "take_payment": "take a payment at the cash desk",
    "refund": "refund and correct postings",
    "view_reports": "see figures and reports",
    "view_history": "see the change history (who, when, what)",
    "manage_equipment": "equipment and NAS",
    "manage_staff": "add and change staff users and their roles",
    "admin_db": "the object inspector: edit fields, undo transactions",
}

ROLE_PERMISSIONS = {
    "administrator": tuple(PERMISSIONS),
    "manager": ("view", "create", "edit", "block", "view_reports", "view_history"),
    "cashier": ("view", "take_payment"),
    "accountant": ("view", "take_payment", "refund", "view_reports", "view_history"),
    "engineer": ("view", "block", "manage_equipment"),
    "dealer": ("view", "create"),
    "auditor": ("view", "view_reports", "view_history"),
}

# What a subscriber signed in to the office may do, on their own objects only.
OFFICE_PERMISSION = "office"


def role_principal(role):
    return f"role:{role}"


def subscriber_principal(subscriber_id):
    return f"subscriber:{subscriber_id}"


def root_acl():
    acl = []
    for role, perms in ROLE_PERMISSIONS.items():
        acl.extend((Allow, role_principal(role), perm) for perm in perms)
    acl.append(DENY_ALL)
    return acl


def _subscriber_acl(self):
    # Only this subscriber's office session; staff rights come from the root.
    return [(Allow, subscriber_principal(self.id), OFFICE_PERMISSION)]


def install():
    from ..model.root import Root
    from ..model.subscriber import Subscriber
    Root.__acl__ = root_acl()
    Subscriber.__acl__ = property(_subscriber_acl)
