"""Suspending and resuming a service (a subscriber's holiday, a repair),
from today or a date ahead, with its history.

The dates go into the service's suspension history
(``Service.set_suspended``): the billing run charges the tariff's
suspended fee for exactly the suspended days and moves the service's
``suspended`` flag when a date ahead comes due.  A suspension from today
is told as ``ServiceBlocked`` (reason ``suspension``): the RADIUS feature
ends the service's sessions after this transaction commits (outbox).
"""
import datetime
import uuid

from pyramid.httpexceptions import HTTPFound
from pyramid.view import view_config
from wtforms import SelectField, StringField

from ... import clock, events
from ...interfaces import IService
from ..forms import BaseForm, V, choices
from ..helpers import audit, flash
from ..i18n import _
from .forms import form_page

PERMISSION = "edit"          # whoever may change contracts and services
MAX_AHEAD = 366              # days: a date further ahead is a typing error


def _date(form, field):
    if not field.data:
        field.date = None
        return
    try:
        field.date = datetime.date.fromisoformat(field.data.strip())
    except ValueError:
        raise V.ValidationError(_("a date YYYY-MM-DD"))


class SuspensionForm(BaseForm):
    action = SelectField(_("Action"), choices=choices([("suspend", _("suspend")),
                                                       ("resume", _("resume"))]))
    start = StringField(_("From (YYYY-MM-DD, today or later)"),
                        [V.InputRequired(), V.Length(max=10), _date])
    until = StringField(_("Resume on (YYYY-MM-DD, optional, for a suspension)"),
                        [V.Optional(), V.Length(max=10), _date])
    reason = StringField(_("Reason"), [V.InputRequired(), V.Length(max=500)])


def service_label(service):
    """What staff call a service: its login, number or package."""
    for attr in ("login", "number", "package", "description"):
        value = getattr(service, attr, None)
        if value:
            return str(value)
    return service.__name__ or service.title


def check(form, service, today):
    """The form's dates against the service; messages go on the fields.
    Returns True when the change can be made."""
    start, until = form.start.date, getattr(form.until, "date", None)
    suspend = form.action.data == "suspend"
    contract = service.__parent__
    if contract is not None and contract.status == "terminated":
        form.add_error("action", _("the contract is terminated"))
        return False
    if start < today:
        form.add_error("start", _("from today or a later date: past days are billed already"))
        return False
    if start > today + datetime.timedelta(days=MAX_AHEAD):
        form.add_error("start", _("at most a year ahead"))
        return False
    if service.ended is not None and start >= service.ended:
        form.add_error("start", f"the service ended on {service.ended}")
        return False
    if service.started is not None and start < service.started:
        form.add_error("start", f"the service starts on {service.started}")
        return False
    if until is not None:
        if not suspend:
            form.add_error("until", _("only a suspension has a date to resume on"))
            return False
        if until <= start:
            form.add_error("until", _("after the day the suspension starts"))
            return False
        if until > start + datetime.timedelta(days=MAX_AHEAD):
            form.add_error("until", _("at most a year after it starts"))
            return False
    if service.suspended_on(start) == suspend:
        form.add_error("action", _("already suspended on that day") if suspend
                       else _("not suspended on that day"))
        return False
    return True


def _changed_now(request, service, suspend):
    """Tell a suspension or a resumption from today: blocked or unblocked,
    for the features that control the access (RADIUS: Disconnect / CoA)."""
    event = events.ServiceBlocked if suspend else events.ServiceUnblocked
    events.notify(event(request.root, service, events.SUSPENSION,
                        f"{'suspend' if suspend else 'resume'}:{uuid.uuid4().hex}",
                        request.authenticated_userid or "",
                        note="suspended" if suspend else "resumed"))


def history_rows(service):
    """The suspension log newest first: (recorded, day, suspended, reason, user)."""
    log = service.suspension_log
    if not log:
        return []
    rows = []
    for when_us in reversed(list(log.keys())):
        day, suspended, reason, user = log[when_us]
        rows.append((clock.local(when_us),
                     datetime.date.fromordinal(day), suspended, reason, user))
    return rows


@view_config(context=IService, name="suspension",
             renderer="portmonet:web/templates/suspension.pt", permission=PERMISSION)
def suspension(context, request):
    today = clock.today()
    form = SuspensionForm.from_request(request, data={
        "action": "resume" if context.suspended else "suspend", "start": today.isoformat()})
    if request.method == "POST" and form.validate() and check(form, context, today):
        user = request.identity.userid
        suspend = form.action.data == "suspend"
        start, until = form.start.date, getattr(form.until, "date", None)
        reason = form.reason.data.strip()
        context.set_suspended(suspend, start, today=today, reason=reason, user=user)
        if until is not None:
            context.set_suspended(False, until, today=today, reason=reason, user=user)
        if start == today:
            _changed_now(request, context, suspend)
        label = service_label(context)
        what = "suspended" if suspend else "resumed"
        audit(request, f"service {label} of contract {context.__parent__.number} {what} from "
                       f"{start.isoformat()}" + (f" until {until.isoformat()}" if until else "")
                       + f": {reason}")
        flash(request, _("${service}: ${what} from ${day}"), service=label,
              what=request.localizer.translate(_(what)), day=start.isoformat())
        return HTTPFound(request.resource_url(context, "@@suspension"))
    page = form_page(request, form, _("Suspend or resume"),
                     request.resource_url(context, "@@suspension"), submit=_("Save"))
    changes = context.suspension_changes()
    page.update(service=context, contract=context.__parent__, label=service_label(context),
                today=today, log=history_rows(context),
                planned=[(d, s) for d, s in changes if d > today],
                changes=list(reversed(changes)))
    return page
