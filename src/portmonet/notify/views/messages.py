"""The message log of the notification channels and the dead letters:
what was sent, skipped, deferred or given up, with the last error, and
"send again" for a failed or given-up message."""
import itertools

from pyramid.httpexceptions import HTTPBadRequest, HTTPFound, HTTPNotFound
from pyramid.view import view_config

from ...outbox import NOTICE_CHANNELS, STATES
from ...web.helpers import audit, flash
from ..interfaces import INotify

PAGE = 50


@view_config(context=INotify, renderer="../templates/messages.pt",
             permission="view_notifications")
@view_config(context=INotify, name="messages", renderer="../templates/messages.pt",
             permission="view_notifications")
def messages(context, request):
    channel = request.GET.get("channel") or "mail"
    state = request.GET.get("state") or "given-up"
    if channel not in NOTICE_CHANNELS or (state != "all" and state not in STATES):
        raise HTTPBadRequest("unknown channel or state")
    try:
        start = max(0, int(request.GET.get("start", 0)))
    except ValueError:
        raise HTTPBadRequest("start must be a number")
    rows = (m for m in request.root.outbox.newest(channel) if state == "all" or m.state == state)
    page = list(itertools.islice(rows, start, start + PAGE + 1))
    return {"page_title": "Notifications", "rows": page[:PAGE], "channel": channel,
            "state": state, "channels": NOTICE_CHANNELS, "states": ("all",) + STATES,
            "more": start + PAGE if len(page) > PAGE else None,
            "mailings": list(context.values())[-10:]}


@view_config(context=INotify, name="retry", request_method="POST",
             permission="manage_templates")
def retry(context, request):
    message = request.root.outbox.keys.get(request.POST.get("key", ""))
    if message is None or message.channel not in NOTICE_CHANNELS:
        raise HTTPNotFound("no such message")
    message.requeue()
    audit(request, f"notification {message.key} queued again")
    flash(request, "Send queued again")
    return HTTPFound(request.resource_url(context, "@@messages",
                                          query={"channel": message.channel}))
