"""The notifications forms (WTForms, like every form of the workplace)."""
from wtforms import BooleanField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms import validators as V

from ..model.contract import STATUSES
from ..web.forms import BaseForm, choices
from ..web.i18n import _
from .segments import DEBT
from .templating import RenderError, compile_check


def _compiles(html=False):
    def check(form, field):
        try:
            compile_check(field.data or "", html)
        except RenderError as exc:
            raise V.ValidationError(str(exc))
    return check


class TemplateForm(BaseForm):
    subject = StringField(_("Subject"), [V.Optional(), V.Length(max=300), _compiles()])
    text = TextAreaField(_("Text"), [V.InputRequired(), V.Length(max=20000), _compiles()])
    html = TextAreaField(_("HTML"), [V.Optional(), V.Length(max=50000), _compiles(html=True)])
    preview = StringField(_("Preview on subscriber (id)"), [V.Optional(), V.Regexp(r"^\d{1,12}$")])


class MailingForm(BaseForm):
    title = StringField(_("Title"), [V.InputRequired(), V.Length(max=200)])
    status = SelectField(_("Contract status"), choices=choices(
        [("", "any")] + [(s, s) for s in STATUSES]), default="")
    tariff = StringField(_("Tariff"), [V.Optional(), V.Length(max=100)])
    debt = SelectField(_("Debt"), choices=choices((d, d or "any") for d in DEBT), default="")
    channels = SelectMultipleField(_("Channels"), [V.InputRequired()],
                                   choices=choices((c, c) for c in ("mail", "sms", "office")))
    marketing = BooleanField(_("Marketing (subscribers who opted out do not get it)"),
                             default=True)
    subject = StringField(_("Subject"), [V.Optional(), V.Length(max=300), _compiles()])
    text = TextAreaField(_("Text"), [V.InputRequired(), V.Length(max=20000), _compiles()])
    html = TextAreaField(_("HTML"), [V.Optional(), V.Length(max=50000), _compiles(html=True)])
    preview = StringField(_("Preview on subscriber (id)"), [V.Optional(), V.Regexp(r"^\d{1,12}$")])
