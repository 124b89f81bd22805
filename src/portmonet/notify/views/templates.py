"""The template editor (administrators): every event's text per channel
and language, saved in the database over the shipped default, with a
preview on a real subscriber; "reset" goes back to the default."""
from pyramid.httpexceptions import HTTPBadRequest, HTTPFound
from pyramid.view import view_config

from ...web.helpers import audit, flash
from ...web.views.forms import form_page
from .. import events, preview, texts
from ..forms import TemplateForm
from ..interfaces import INotify
from ..settings import Settings


@view_config(context=INotify, name="templates", renderer="../templates/templates.pt",
             permission="manage_templates")
def template_list(context, request):
    rows = []
    for name, event in sorted(events.events().items()):
        for channel in events.CHANNELS:
            for lang in events.LANGUAGES:
                text = texts.exact(context, name, channel, lang)
                rows.append({"event": event, "channel": channel, "lang": lang, "text": text})
    return {"page_title": "Notification templates", "rows": rows}


def _which(request):
    event = request.params.get("event", "")
    channel = request.params.get("channel", "")
    lang = request.params.get("lang", "")
    if event not in events.events() or channel not in events.CHANNELS \
            or lang not in events.LANGUAGES:
        raise HTTPBadRequest("unknown event, channel or language")
    return event, channel, lang


@view_config(context=INotify, name="template", renderer="../templates/template.pt",
             permission="manage_templates")
def template_edit(context, request):
    event, channel, lang = _which(request)
    current = texts.exact(context, event, channel, lang) or texts.Text()
    form = TemplateForm.from_request(request, data={
        "subject": current.subject, "text": current.text, "html": current.html})
    action = request.resource_url(context, "@@template",
                                  query={"event": event, "channel": channel, "lang": lang})
    shown = None
    if request.method == "POST" and form.validate():
        what = request.POST.get("do", "save")
        if what == "reset":
            texts.reset(context, event, channel, lang)
            audit(request, f"template {event}/{channel}/{lang} back to the default")
            flash(request, "Template reset to the default")
            return HTTPFound(action)
        if what == "preview":
            subscriber = request.root["subscribers"].get(int(form.preview.data or 0))
            if subscriber is None:
                form.add_error("preview", "no such subscriber")
            else:
                shown = preview.show(request.root, subscriber, form.subject.data or "",
                                     form.text.data or "", form.html.data or "",
                                     Settings(request.registry.settings), channel)
            request.tm.doom()              # a preview changes nothing
        else:
            texts.save(context, event, channel, lang, form.subject.data or "",
                       form.text.data or "", form.html.data if channel == "mail" else "",
                       request.identity.userid if request.identity else "")
            audit(request, f"template {event}/{channel}/{lang} changed")
            flash(request, "Template saved")
            return HTTPFound(action)
    page = form_page(request, form, "Template", action)
    page.update(event=events.get(event), channel=channel, lang=lang, shown=shown,
                edited=current.edited)
    return page
