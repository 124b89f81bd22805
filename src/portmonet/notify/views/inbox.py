"""The office inbox: a subscriber's own messages, read after signing in."""
from pyramid.httpexceptions import HTTPFound
from pyramid.view import view_config

from ...interfaces import ISubscriber
from ...web.i18n import _


@view_config(context=ISubscriber, name="office-inbox", renderer="../templates/inbox.pt",
             permission="office")
def office_inbox(context, request):
    notify = request.root.get("notify")
    box = notify.inbox(context.id) if notify is not None else None
    rows = box.newest(100) if box is not None else []
    return {"page_title": _("Messages"), "s": context, "rows": rows,
            "unread": box.unread() if box is not None else 0}


@view_config(context=ISubscriber, name="office-inbox-read", request_method="POST",
             permission="office")
def office_inbox_read(context, request):
    notify = request.root.get("notify")
    box = notify.inbox(context.id) if notify is not None else None
    if box is not None:
        try:
            slot = int(request.POST.get("slot", ""))
        except ValueError:
            slot = None
        if slot is not None:
            box.mark_read(slot)
    return HTTPFound(request.resource_url(context, "@@office-inbox"))
