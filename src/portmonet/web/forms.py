"""The forms of the workplace and the office: WTForms, used for every form.

Forms validate every field server-side; views re-show them with the
messages.  CSRF is Pyramid's (a ``csrf_token`` field checked for every
unsafe request), so WTForms' own CSRF is off.
"""
import datetime
import re

from wtforms import (BooleanField, Form, HiddenField, IntegerField, PasswordField, SelectField,
                     SelectMultipleField, StringField, TextAreaField, validators, widgets)

from .. import money
from .i18n import _
from ..catalog import normalize
from ..model.contract import STATUSES
from ..model.staff import ROLES
from ..model.subscriber import KINDS
from ..ledger.posting import KINDS as POSTING_KINDS

V = validators

try:                                   # WTForms >= 3.3 deprecates (value, label) tuples
    from wtforms.fields.choices import SelectChoice as _Choice
except ImportError:                    # pragma: no cover - older WTForms
    def _Choice(value, label):
        return (value, label)


def choices(pairs):
    return [_Choice(value, label) for value, label in pairs]


class _PostData:
    """WebOb's MultiDict spoken as WTForms expects (``getlist``)."""

    def __init__(self, multidict):
        self.data = multidict

    def __iter__(self):
        return iter(self.data.keys())

    def __len__(self):
        return len(self.data)

    def __contains__(self, key):
        return key in self.data

    def getlist(self, key):
        return self.data.getall(key)


class BaseForm(Form):
    """``BaseForm.from_request(request, obj=...)`` binds POST (or GET) data."""

    class Meta:
        locales = ("en",)

    # Field names given more than once in the request (see validate).
    _repeated = ()

    @classmethod
    def from_request(cls, request, get=False, **kw):
        data = request.GET if get else request.POST
        formdata = _PostData(data) if (get or request.method == "POST") else None
        form = cls(formdata, meta={"locales": [request.locale_name, "en"]}, **kw)
        if formdata is not None:
            form._repeated = [name for name, field in form._fields.items()
                              if not isinstance(field, SelectMultipleField)
                              and len(data.getall(name)) > 1]
        return form

    def validate(self, extra_validators=None):
        """WTForms' validation, and a single-valued field sent twice is an
        error (two ``amount=`` are not "the first one wins")."""
        ok = super().validate(extra_validators)
        for name in self._repeated:
            self.add_error(name, "given more than once")
        return ok and not self._repeated

    def add_error(self, field, message):
        """Put a model's refusal (a ValueError) on the field it is about."""
        getattr(self, field).errors = list(getattr(self, field).errors) + [str(message)]


def _normalized(func, message=None):
    def check(form, field):
        if field.data:
            try:
                func(field.data)
            except ValueError as exc:
                raise V.ValidationError(message or str(exc))
    return check


def payment_amount(form, field):
    """A positive amount of money paid in, as a person types it
    (:func:`portmonet.money.parse_typed`); sets ``field.minor``."""
    try:
        value = money.parse_typed(field.data or "")
    except money.MoneyError as exc:
        raise V.ValidationError(str(exc))
    if value <= 0:
        raise V.ValidationError("the amount must be positive")
    if value > 10**11:
        raise V.ValidationError("the amount is too large")
    field.minor = value



def _non_negative_amount(form, field):
    try:
        value = money.to_minor(field.data or "0")
    except money.MoneyError as exc:
        raise V.ValidationError(str(exc))
    except ArithmeticError:
        raise V.ValidationError("not an amount")
    if not 0 <= value <= 10**11:
        raise V.ValidationError("0 to 1,000,000,000")
    field.minor = value


class LoginForm(BaseForm):
    login = StringField(_("Login"), [V.InputRequired(), V.Length(max=64)])
    password = PasswordField(_("Password"), [V.InputRequired(), V.Length(max=256)])


class SetupForm(BaseForm):
    login = StringField(_("Login"), [V.InputRequired(), V.Length(max=64), _normalized(normalize.login)])
    name = StringField(_("Name"), [V.Optional(), V.Length(max=200)])
    password = PasswordField(_("Password"), [V.InputRequired(), V.Length(min=8, max=256)])
    confirm = PasswordField(_("Repeat password"), [V.EqualTo("password")])


class StaffForm(BaseForm):
    login = StringField(_("Login"), [V.InputRequired(), V.Length(max=64), _normalized(normalize.login)])
    name = StringField(_("Name"), [V.Optional(), V.Length(max=200)])
    roles = SelectMultipleField(_("Roles"), [V.InputRequired()], choices=choices((r, r) for r in ROLES),
                                widget=widgets.ListWidget(prefix_label=False),
                                option_widget=widgets.CheckboxInput())
    active = BooleanField(_("Active"), default=True)
    password = PasswordField(_("Password (empty: unchanged)"), [V.Optional(), V.Length(min=8, max=256)])


class SubscriberForm(BaseForm):
    kind = SelectField(_("Kind"), choices=choices((k, k) for k in KINDS))
    name = StringField(_("Name"), [V.InputRequired(), V.Length(max=200)])
    phone = StringField(_("Phone"), [V.Optional(), V.Length(max=32), _normalized(normalize.phone)])
    email = StringField(_("E-mail"), [V.Optional(), V.Length(max=254), _normalized(normalize.email)])
    address = StringField(_("Address"), [V.Optional(), V.Length(max=500)])
    notes = TextAreaField(_("Notes"), [V.Optional(), V.Length(max=4000)])
    identity_document = TextAreaField(_("Identity document (kept encrypted; empty: unchanged)"),
                                      [V.Optional(), V.Length(max=1000)])
    office_password = PasswordField(_("Office password (empty: unchanged)"),
                                    [V.Optional(), V.Length(min=8, max=256)])


class ContractForm(BaseForm):
    number = StringField(_("Contract number (empty: automatic)"),
                         [V.Optional(), V.Length(max=32), V.Regexp(r"^[^/@][^/]*\Z")])
    credit_limit = StringField(_("Credit limit"), [V.Optional(), _non_negative_amount], default="0")


class ContractEditForm(ContractForm):
    """Editing a contract: its credit limit and the billing terms.
    ``discount_group`` choices are the groups the tariffs' discounts name
    (set by the view)."""
    grace_days = IntegerField(_("Grace days before blocking for debt (0-90)"),
                              [V.InputRequired(), V.NumberRange(min=0, max=90)], default=0)
    discount_group = SelectField(_("Discount group"), choices=[], validate_choice=True)


class InternetServiceForm(BaseForm):
    login = StringField(_("Internet login"), [V.InputRequired(), V.Length(max=64),
                                           _normalized(normalize.login)])
    password = PasswordField(_("Internet password (empty: unchanged)"), [V.Optional(), V.Length(max=128)])
    ip = StringField(_("Static IPv4 address"), [V.Optional(), V.Length(max=15),
                                             _normalized(normalize.ipv4)])


class StatusForm(BaseForm):
    status = SelectField(_("New status"), choices=choices((s, s) for s in STATUSES))
    reason = StringField(_("Reason"), [V.InputRequired(), V.Length(max=500)])


class TariffForm(BaseForm):
    tariff = SelectField(_("Tariff"), choices=[])
    when = SelectField(_("From"), choices=choices([("now", _("now")),
                                                   ("next", _("the next period"))]),
                       default="now")


class PaymentForm(BaseForm):
    amount = StringField(_("Amount"), [V.InputRequired(), V.Length(max=20), payment_amount])
    text = StringField(_("Comment"), [V.Optional(), V.Length(max=200)])
    # One token per rendered form: the posting's cause, so a double submit
    # or a retried request posts once.
    token = HiddenField("", [V.InputRequired(), V.Regexp(r"^[0-9a-f]{32}\Z")])


_NAME = [V.InputRequired(), V.Length(max=64), V.Regexp(r"^[A-Za-z0-9][A-Za-z0-9_.-]*\Z",
                                                      message="letters, digits, _ . -")]


class DeviceForm(BaseForm):
    name = StringField(_("Name"), _NAME)
    title = StringField(_("Title"), [V.Optional(), V.Length(max=200)])
    kind = SelectField(_("Kind"), choices=choices((k, k) for k in ("switch", "router", "olt",
                                                                  "server", "other")))
    address = StringField(_("Address (IP or host name)"),
                          [V.Optional(), V.Length(max=253),
                           V.Regexp(r"^[A-Za-z0-9.:-]*\Z", message="an IP address or host name")])
    vendor = StringField(_("Vendor"), [V.Optional(), V.Length(max=100)])


class OperatorForm(BaseForm):
    name = StringField(_("Name"), _NAME)
    title = StringField(_("Title"), [V.InputRequired(), V.Length(max=200)])
    agreement = StringField(_("Interconnect agreement"), [V.Optional(), V.Length(max=100)])
    contact = StringField(_("Contact (phone, e-mail)"), [V.Optional(), V.Length(max=200)])
    notes = TextAreaField(_("Notes"), [V.Optional(), V.Length(max=4000)])


class PromiseForm(BaseForm):
    contract = SelectField(_("Contract"), [V.InputRequired()])
    amount = StringField(_("Amount"), [V.InputRequired(), V.Length(max=20), payment_amount])
    days = StringField(_("Days"), [V.InputRequired(), V.Regexp(r"^[1-9][0-9]?\Z")])


class LedgerFilterForm(BaseForm):
    start = StringField(_("From (YYYY-MM-DD)"), [V.Optional(), V.Regexp(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}\Z")])
    end = StringField(_("To (YYYY-MM-DD)"), [V.Optional(), V.Regexp(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}\Z")])
    kind = SelectField(_("Kind"), [V.Optional(), V.AnyOf(("",) + POSTING_KINDS)],
                       choices=choices([("", "all")] + [(k, k) for k in POSTING_KINDS]),
                       validate_choice=False)


class OfficeLoginForm(BaseForm):
    identifier = StringField(_("Internet login or contract number"), [V.InputRequired(), V.Length(max=64)])
    password = PasswordField(_("Password"), [V.InputRequired(), V.Length(max=256)])


class PasswordForm(BaseForm):
    old = PasswordField(_("Current password"), [V.InputRequired(), V.Length(max=256)])
    new = PasswordField(_("New password"), [V.InputRequired(), V.Length(min=8, max=256)])
    confirm = PasswordField(_("Repeat new password"), [V.EqualTo("new")])


class RegistrationForm(BaseForm):
    name = StringField(_("Name"), [V.InputRequired(), V.Length(max=200)])
    phone = StringField(_("Phone"), [V.InputRequired(), V.Length(max=32), _normalized(normalize.phone)])
    email = StringField(_("E-mail"), [V.Optional(), V.Length(max=254), _normalized(normalize.email)])
    address = StringField(_("Address"), [V.InputRequired(), V.Length(max=500)])
    password = PasswordField(_("Office password"), [V.InputRequired(), V.Length(min=8, max=256)])
    confirm = PasswordField(_("Repeat password"), [V.EqualTo("password")])


class TariffRequestForm(BaseForm):
    login = SelectField(_("Internet login"), choices=[])
    tariff = SelectField(_("Tariff"), choices=[])


class DecisionForm(BaseForm):
    decision = SelectField(_("Decision"), choices=choices([("approved", "approve"), ("rejected", "reject")]))
    note = StringField(_("Note"), [V.Optional(), V.Length(max=500)])


def _quiet_hours(form, field):
    value = (field.data or "").strip()
    if value in ("", "off"):
        return
    try:
        start, end = value.split("-")
        datetime.time.fromisoformat(start.strip())
        datetime.time.fromisoformat(end.strip())
    except ValueError:
        raise V.ValidationError(_("HH:MM-HH:MM, 'off', or empty for the operator's"))


class NotificationsForm(BaseForm):
    notify_email = BooleanField(_("Notify me by e-mail"))
    notify_sms = BooleanField(_("Notify me by SMS"))
    notify_marketing = BooleanField(_("Send me offers and news"))
    notify_language = SelectField(_("Language of notices"), choices=choices(
        (("", "the operator's"), ("ru", "русский"), ("en", "English"))), default="")
    quiet_hours = StringField(_("Quiet hours (no SMS), e.g. 22:00-08:00"),
                              [V.Optional(), V.Length(max=20), _quiet_hours])


class SearchForm(BaseForm):
    q = StringField(_("Search"), [V.InputRequired(), V.Length(max=100)])


SIMPLE_NAME = re.compile(r"^[a-z][a-z0-9_]{0,63}$")


class TopUpForm(BaseForm):
    """The office's "Top up": which provider, onto which of one's contracts."""
    provider = SelectField(_("Pay with"), [V.InputRequired()])
    contract = SelectField(_("Contract"), [V.InputRequired()])
    amount = StringField(_("Amount"), [V.InputRequired(), V.Length(max=20), payment_amount])


class ScratchCardForm(BaseForm):
    """The office's scratch-card activation (the PIN is checked by payments.cards)."""
    contract = SelectField(_("Contract"), [V.InputRequired()])
    serial = StringField(_("Card number"), [V.InputRequired(), V.Regexp(
        r"^\s*[0-9]{6,40}\s*$", message=_("the card number is the digits printed on the card"))])
    pin = PasswordField("PIN", [V.InputRequired(), V.Regexp(
        r"^\s*[0-9]{4,40}\s*$", message=_("the PIN is the digits under the scratch layer"))])
