"""The RADIUS pages' forms (WTForms, as every form of the workplace)."""
from wtforms import PasswordField, SelectField, StringField, validators as V

from ..web.forms import BaseForm, choices
from .nas import VENDORS


class NasForm(BaseForm):
    name = StringField("Name", [V.InputRequired(), V.Length(max=64),
                                V.Regexp(r"^[A-Za-z0-9._-]+$", message="letters, digits . _ -")])
    address = StringField("IP address", [V.InputRequired(), V.Length(max=45)])
    # A PasswordField is never rendered with its value: the secret is not shown back.
    secret = PasswordField("Shared secret (empty: unchanged)", [V.Optional(), V.Length(max=128)])
    vendor = SelectField("Vendor", choices=choices((v, v) for v in VENDORS))
    coa_port = StringField("CoA port (empty: radius.coa_port)",
                           [V.Optional(), V.Regexp(r"^\d{1,5}$", message="a port number")])
    access_point = StringField("Access point (site, POP)", [V.Optional(), V.Length(max=200)])
