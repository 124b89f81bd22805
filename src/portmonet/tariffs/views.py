"""Tariffs in the web workplace: the list, a tariff's versions and rules,
a new tariff, a new version from an effective date.

Everyone signed in who may ``view`` sees tariffs; creating a tariff or a
version needs ``manage_tariffs`` (administrators and managers).  A version
is never edited in place -- usage already rated names it -- so a change is
a new version effective from a date that has not begun yet.
"""
import datetime

from pyramid.httpexceptions import HTTPFound, HTTPNotFound
from pyramid.view import view_config

from .. import clock
from ..interfaces import IService, ITariffs
from ..web.acl import grant
from ..web.forms import TariffForm, choices
from ..web.helpers import audit, flash
from ..web.i18n import _
from ..web.views.suspension import service_label
from ..web.views.forms import form_page
from . import forms
from .book import BOOK
from .forms import (TariffCreateForm, TariffEditForm, VersionForm, parse_version,
                    version_fields)
from .interfaces import IRatedTariff
from .model import RatedTariff, TariffVersion

MANAGE = "manage_tariffs"
for _role in ("administrator", "manager"):
    grant(_role, MANAGE, doc="create tariffs and their versions")

TEMPLATES = "portmonet:tariffs/templates/"


def _today(request):
    return clock.today()


@view_config(context=ITariffs, renderer=TEMPLATES + "tariffs.pt", permission="view")
def tariff_list(context, request):
    rows = []
    today = _today(request)
    for tariff in context.values():
        versions = getattr(tariff, "versions", None)
        current = tariff.version_at(today, default=None) if isinstance(tariff, RatedTariff) else None
        rows.append({"tariff": tariff, "versions": len(versions) if versions is not None else 0,
                     "current": current, "rated": isinstance(tariff, RatedTariff)})
    return {"page_title": "Tariffs", "rows": rows, "can_manage": request.has_permission(MANAGE)}


@view_config(context=ITariffs, name="add", renderer="portmonet:web/templates/form.pt",
             permission=MANAGE)
def add_tariff(context, request):
    form = TariffCreateForm.from_request(request)
    if request.method == "POST" and form.validate():
        name = form.name.data
        if name in context:
            form.add_error("name", "a tariff of this name exists")
        else:
            tariff = context.add(name, RatedTariff(name, form.title.data or name, form.kind.data,
                                                   form.currency.data, form.timezone.data or None))
            audit(request, f"tariff {name} created ({form.kind.data}, {form.currency.data})")
            flash(request, "Tariff created: now give it its first version")
            return HTTPFound(request.resource_url(tariff, "@@add-version"))
    return form_page(request, form, "New tariff", request.resource_url(context, "@@add"))


@view_config(context=IRatedTariff, renderer=TEMPLATES + "tariff.pt", permission="view")
def tariff_page(context, request):
    today = _today(request)
    current = context.version_at(today, default=None)
    versions = [context.versions[k] for k in reversed(list(context.versions.keys()))]
    return {"page_title": context.title, "tariff": context, "versions": versions, "forms": forms,
            "current": current, "today": today, "can_manage": request.has_permission(MANAGE)}


@view_config(context=IRatedTariff, name="edit", renderer="portmonet:web/templates/form.pt",
             permission=MANAGE)
def edit_tariff(context, request):
    """A tariff's title, time zone and network access settings (what a
    tariff file says above its versions), checked by the loader's rules."""
    form = TariffEditForm.from_request(request, data=forms.tariff_fields(context))
    if request.method == "POST" and form.validate():
        settings = forms.tariff_settings(form)
        if settings is not None:
            changed = sorted(k for k, v in settings.items() if getattr(context, k) != v)
            for name in changed:
                setattr(context, name, settings[name])
            audit(request, f"tariff {context.name}: {', '.join(changed) or 'nothing'} changed")
            flash(request, "Tariff saved")
            return HTTPFound(request.resource_url(context))
    return form_page(request, form, "Edit tariff", request.resource_url(context, "@@edit"),
                     context_title=f"{context.name}: {context.kind}, {context.currency}")


@view_config(context=IRatedTariff, name="add-version", renderer=TEMPLATES + "version_form.pt",
             permission=MANAGE)
def add_version(context, request):
    """A new version from a date after today, starting as a copy of the
    latest version (every part of it is in the form)."""
    return _version_page(context, request, _latest(context), editing=False)


@view_config(context=IRatedTariff, name="edit-version", renderer=TEMPLATES + "version_form.pt",
             permission=MANAGE)
def edit_version(context, request):
    """Correct a version that has not taken effect yet (nothing is rated
    against it): it is replaced, as ``portmonet import tariffs --replace``
    does.  A version in force or past is never edited: add a new one."""
    try:
        day = datetime.date.fromisoformat(request.params.get("effective", ""))
    except ValueError:
        raise HTTPNotFound("no such version")
    version = context.versions.get(day.toordinal())
    if version is None:
        raise HTTPNotFound("no such version")
    if day <= _today(request):
        flash(request, "A version in force or past is not edited: add a new version")
        return HTTPFound(request.resource_url(context))
    return _version_page(context, request, version, editing=True)


def _version_page(context, request, base, editing):
    today = _today(request)
    if request.method == "POST":
        form = VersionForm.from_request(request)
    else:
        data = version_fields(base, context.currency) if base is not None else {}
        data["effective"] = (base.effective if editing else
                             today + datetime.timedelta(days=1)).isoformat()
        form = VersionForm(data=data)
    if request.method == "POST" and "more" in request.POST:
        form.more_rows(forms.BLANK_ROWS + 1)      # more empty rows, nothing saved
    elif request.method == "POST" and form.validate():
        effective = form.effective.date
        if effective <= today:
            form.add_error("effective", "a new version takes effect from tomorrow or later: "
                                        "usage up to today is already rated against the "
                                        "versions in force")
        elif editing and effective != base.effective:
            form.add_error("effective", f"this corrects the version effective {base.effective}; "
                                        f"to change the date, add a new version")
        else:
            parsed = parse_version(form, context.currency)
            if parsed is not None:
                try:
                    outcome = context.add_version(TariffVersion(effective, **parsed[1]),
                                                  replace=editing)
                except ValueError as exc:
                    form.add_error("effective", str(exc))
                else:
                    audit(request, f"tariff {context.name}: version effective {effective} {outcome}")
                    flash(request, f"Version effective {effective}: {outcome}")
                    return HTTPFound(request.resource_url(context))
    else:
        form.more_rows()
    title = f"Correct the version effective {base.effective}" if editing else "New version"
    action = (request.resource_url(context, "@@edit-version",
                                   query={"effective": base.effective.isoformat()})
              if editing else request.resource_url(context, "@@add-version"))
    return form_page(request, form, title, action, submit="Save version" if editing
                     else "Add version", context_title=context.title, base=base, editing=editing,
                     row_fields=forms.ROW_FIELDS)


def _latest(tariff):
    if not len(tariff.versions):
        return None
    return tariff.versions[tariff.versions.maxKey()]


@view_config(context=IService, name="tariff", renderer="portmonet:web/templates/form.pt",
             permission="edit")
def tariff_change_page(context, request):
    """A service's tariff, now or from the next period: ``change_tariff`` keeps the service's tariff history (the billing run
    charges each part of a period at its tariff and moves the service on
    when a change comes due)."""
    tariffs = [t for t in request.root["tariffs"].values() if t.kind == context.kind]
    form = TariffForm.from_request(request, data={
        "tariff": context.tariff.__name__ if context.tariff is not None else "", "when": "now"})
    form.tariff.choices = choices((t.__name__, t.title) for t in tariffs)
    if request.method == "POST" and form.validate():
        old = context.tariff.__name__ if context.tariff is not None else "-"
        effective = BOOK.change(request.root, context, request.root["tariffs"][form.tariff.data],
                                request.identity.userid, next_period=form.when.data == "next")
        audit(request, f"tariff of {service_label(context)}: {old} -> {form.tariff.data} "
                       f"from {effective.isoformat()}")
        flash(request, _("Tariff ${tariff} from ${date}"), tariff=form.tariff.data,
              date=effective.isoformat())
        return HTTPFound(request.resource_url(context.__parent__))
    pending = _pending_change(context)
    return form_page(request, form, _("Change tariff"), request.resource_url(context, "@@tariff"),
                     context_title=service_label(context) + (
                         f" — {pending[1].title} from {pending[0].isoformat()}" if pending else ""))


def _pending_change(service):
    """(date, tariff) of a change dated after today, or None."""
    history = getattr(service, "tariff_history", None)
    if not history:
        return None
    today = clock.today().toordinal()
    last = history.maxKey()
    return (datetime.date.fromordinal(last), history[last]) if last > today else None
