"""Mass mailings: choose a segment, write the texts, preview on a real
subscriber, send; watch the progress; cancel."""
from pyramid.httpexceptions import HTTPFound
from pyramid.view import view_config

from ...web.helpers import audit, flash
from ...web.views.forms import form_page
from .. import mailing as mailings, preview
from ..forms import MailingForm
from ..interfaces import IMailing, INotify
from ..segments import Segment, members
from ..settings import Settings


@view_config(context=INotify, name="mailings", renderer="../templates/mailings.pt",
             permission="send_mailings")
def mailing_list(context, request):
    rows = list(context.values())
    rows.reverse()
    return {"page_title": "Mass mailings", "rows": rows[:100]}


def _segment(form):
    return Segment(status=form.status.data, tariff=(form.tariff.data or "").strip(),
                   debt=form.debt.data)


@view_config(context=INotify, name="mailing-new", renderer="../templates/mailing_new.pt",
             permission="send_mailings")
def mailing_new(context, request):
    form = MailingForm.from_request(request)
    shown, sample = None, []
    if request.method == "POST" and form.validate():
        segment = _segment(form)
        if request.POST.get("do") == "send":
            mailing = mailings.create(context, mailings.Mailing(
                form.title.data, segment, form.channels.data, form.subject.data or "",
                form.text.data, form.html.data or "", form.marketing.data,
                request.identity.userid if request.identity else ""))
            audit(request, f"mass mailing {mailing.__name__} '{mailing.title}' to "
                           f"{segment.describe()} by {', '.join(mailing.channels)}")
            flash(request, "Mailing started")
            return HTTPFound(request.resource_url(mailing))
        request.tm.doom()                  # a preview changes nothing
        sample, _last = members(request.root, segment, limit=10)
        who = request.root["subscribers"].get(int(form.preview.data)) if form.preview.data \
            else (sample[0] if sample else None)
        if who is not None:
            shown = preview.show(request.root, who, form.subject.data or "", form.text.data,
                                 form.html.data or "", Settings(request.registry.settings))
            shown["who"] = who
    page = form_page(request, form, "New mass mailing",
                     request.resource_url(context, "@@mailing-new"))
    page.update(shown=shown, sample=sample)
    return page


@view_config(context=IMailing, renderer="../templates/mailing.pt", permission="send_mailings")
def mailing_view(context, request):
    return {"page_title": "Mass mailing", "m": context, "counts": context.counts(),
            "segment": Segment(**context.segment).describe()}


@view_config(context=IMailing, name="progress", renderer="json", permission="send_mailings")
def mailing_progress(context, request):
    return dict(context.counts(), state=context.state, progress=context.progress)


@view_config(context=IMailing, name="cancel", request_method="POST", permission="send_mailings")
def mailing_cancel(context, request):
    context.cancel()
    audit(request, f"mass mailing {context.__name__} cancelled")
    flash(request, "Mailing cancelled")
    return HTTPFound(request.resource_url(context))
