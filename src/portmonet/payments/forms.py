"""WTForms of the payments pages (CSRF is Pyramid's, see portmonet.web.forms)."""
import ipaddress

from wtforms import PasswordField, SelectField, StringField, TextAreaField, validators as V

from ..web.forms import BaseForm, choices, payment_amount
from .agents import _NAME, PROTOCOLS


def _networks(form, field):
    for item in field.data.split():
        try:
            ipaddress.ip_network(item, strict=False)
        except ValueError:
            raise V.ValidationError(f"{item!r} is not an IP address or network")


class AgentForm(BaseForm):
    name = StringField("Name", [V.InputRequired(), V.Regexp(
        _NAME, message="lower-case letters, digits, '-', '_' (up to 40)")])
    title = StringField("Title", [V.Optional(), V.Length(max=100)])
    protocol = SelectField("Protocol", choices=choices([(p, p) for p in PROTOCOLS]))
    allow = TextAreaField("Allowed addresses (one per line)", [V.Optional(), _networks])
    login = StringField("Login (OSMP)", [V.Optional(), V.Length(max=64)])
    password = PasswordField("Password (OSMP)", [V.Optional(), V.Length(
        min=10, max=200, message="at least 10 and at most 200 characters")])
    secret = PasswordField("Signing secret (callback)", [V.Optional(), V.Length(
        min=16, max=200, message="at least 16 and at most 200 characters")])
    pay_url = StringField("Card payment page URL (callback)", [V.Optional(), V.URL(require_tld=False)])

    def validate(self, extra_validators=None):
        ok = super().validate(extra_validators)
        if self.protocol.data == "osmp":
            if not self.allow.data.split():
                self.add_error("allow", "an OSMP agent needs at least one allowed address")
                ok = False
            if bool(self.login.data) != bool(self.password.data):
                self.add_error("password", "a login needs a password and the other way round")
                ok = False
        elif not self.secret.data:
            self.add_error("secret", "a callback provider needs a secret")
            ok = False
        return ok


class TransferForm(BaseForm):
    source = SelectField("From", choices=[])
    target = StringField("To account", [V.InputRequired(), V.Length(max=20)])
    amount = StringField("Amount", [V.InputRequired(), payment_amount])


class ConfirmForm(BaseForm):
    code = StringField("Confirmation code", [V.InputRequired(), V.Regexp(r"^[0-9]{6}\Z",
                                                                         message="6 digits")])
