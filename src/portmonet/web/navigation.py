"""The core's entries of the workplace's navigation; features add theirs
with ``config.add_link("nav", ...)`` (the order numbers interleave them:
Online 10, Tariffs 20, Cash desk 30, Payment agents 40, Equipment 50,
Operators 60, Debtors 70, Staff 80, ...)."""
from .i18n import _


def under(path):
    """``href`` of a link to a path below the application."""
    return lambda request, context: f"{request.application_url}/{path}"


def if_present(name, path):
    """``href`` of a link to *path*, shown when the root has *name*."""
    def href(request, context):
        return f"{request.application_url}/{path}" if name in request.root else None
    return href


def if_may(permission, name, path):
    """``href`` of a link to *path*, for those with *permission* on ``root[name]``."""
    def href(request, context):
        folder = request.root.get(name)
        if folder is not None and request.has_permission(permission, folder):
            return f"{request.application_url}/{path}"
        return None
    return href


def subscriber_view(view_name, shown=None):
    """``href`` of an office link to the subscriber's ``view_name``, shown
    when ``shown(root)`` (always without it)."""
    def href(request, subscriber):
        if shown is None or shown(request.root):
            return request.resource_url(subscriber, view_name)
        return None
    return href


def service_view(view_name, kinds=None):
    """``href`` of a service's action at ``@@view_name`` (for services of
    *kinds*; all but one-time services by default)."""
    def href(request, service):
        if (service.kind in kinds) if kinds else service.kind != "once":
            return request.resource_url(service, "@@" + view_name)
        return None
    return href


def includeme(config):
    config.add_link("nav", "equipment", _("Equipment"), under("equipment/"), order=50)
    config.add_link("nav", "operators", _("Operators"), under("operators/"), order=60)
    config.add_link("nav", "staff", _("Staff"), under("staff/"), order=80,
                    permission="manage_staff")
    config.add_link("nav", "inspector", _("Inspector"), under("@@inspect"), order=90,
                    permission="admin_db")
    config.add_link("nav", "new-subscriber", _("New subscriber"),
                    if_may("create", "subscribers", "subscribers/@@add"), order=100)
    config.add_link("nav", "applications", _("Applications"),
                    if_may("create", "applications", "applications/"), order=110)
    config.add_link("service", "suspension", _("Suspend / resume"), service_view("suspension"),
                    order=20, permission="edit")
