"""Which staff roles hold which payments permission.

Views declare these names with ``view_config(permission=...)`` and check
them with ``request.has_permission``; the service functions check the same
map against the acting employee, so a call from a script is held to the
same rule.  The web security policy can grant permissions from this map.
"""

PERMISSIONS = {
    "take_payment": ("cashier", "manager", "administrator"),
    "refund": ("manager", "administrator"),
    "correct": ("accountant", "administrator"),
    "view_payments": ("cashier", "manager", "accountant", "administrator", "auditor"),
    "assign_payment": ("accountant", "administrator"),
    "manage_agents": ("administrator",),
    "manage_cards": ("manager", "administrator"),
    "sell_cards": ("dealer", "manager", "administrator"),
}


class NotPermitted(PermissionError):
    pass


def allowed(staff, permission):
    roles = PERMISSIONS.get(permission, ())
    return staff is not None and getattr(staff, "active", False) and \
        any(role in roles for role in getattr(staff, "roles", ()))


def require(staff, permission):
    if not allowed(staff, permission):
        who = getattr(staff, "login", "nobody")
        raise NotPermitted(f"{who} may not {permission.replace('_', ' ')}")
