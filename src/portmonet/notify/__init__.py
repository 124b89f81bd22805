"""Notifications: e-mail, SMS and the office inbox from the outbox.

Deciders (billing, payments, the wallet, a mass mailing) queue messages in
the outbox channels ``mail``, ``sms`` and ``office`` inside their own
transaction; ``portmonet notify`` (a ZEO client process of its own) takes
them after that transaction committed, renders the event's template in the
subscriber's language, sends, and records the result (docs/notifications.md).
"""
from ..interfaces import ISubscriber
from ..web.i18n import _
from ..web.navigation import if_may
from ..web.panels import OFFICE


def inbox_panel(subscriber, request, slot):
    """The office home's line: the subscriber's messages and how many are unread."""
    folder = request.root.get("notify")
    if folder is None:
        return None
    return {"unread": folder.unread_of(subscriber.id),
            "url": request.resource_url(subscriber, "@@office-inbox")}


def includeme(config):
    """The workplace's Notifications section, the office's inbox, the pages."""
    config.add_link("nav", "notifications", _("Notifications"),
                    if_may("view_notifications", "notify", "notify/"), order=65)
    config.add_panel("inbox", inbox_panel, context=ISubscriber, where=(OFFICE,), order=1,
                     title=_("Messages"), renderer="portmonet:notify/templates/inbox_panel.pt",
                     page=False)
    config.scan(ignore=[".tests"])
