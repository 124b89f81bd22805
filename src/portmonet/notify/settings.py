"""The notifier's settings: ``notify.*`` keys of the ini's ``[app:main]``
(docs/notifications.md lists them).  Passwords are kept here and never
shown: ``repr`` and the start-up line leave them out."""
import datetime
import json
import os

SECRET_WORDS = ("password", "token", "secret", "authorization")


def _float(settings, key, default):
    return float(settings.get(key, default))


def quiet_window(text):
    """'22:00-08:00' -> (time(22), time(8)); '' -> None."""
    text = (text or "").strip()
    if not text:
        return None
    try:
        start, end = (datetime.time.fromisoformat(part.strip()) for part in text.split("-"))
    except ValueError:
        raise ValueError(f"quiet hours {text!r}: HH:MM-HH:MM expected") from None
    return start, end


class Settings:
    def __init__(self, settings):
        get = settings.get
        self.raw = {k: v for k, v in settings.items() if k.startswith("notify.")}
        here = os.path.dirname(settings.get("__file__") or os.path.abspath("development.ini"))
        self.channels = tuple(get("notify.channels", "mail sms office").split())
        self.operator = get("notify.operator_name", "Portmonet")
        self.office_url = get("notify.office_url", "http://127.0.0.1:6543/office")
        self.language = get("notify.language", "ru")
        self.poll = _float(settings, "notify.poll", 1.0)
        self.batch = int(get("notify.batch", 200))
        self.retry_base = _float(settings, "notify.retry_base", 30)
        self.retry_max = _float(settings, "notify.retry_max", 3600)
        self.max_attempts = int(get("notify.max_attempts", 8))
        self.journal_dir = get("notify.journal_dir", os.path.join(here, "zodb", "var"))
        self.sink_maildir = get("notify.sink_maildir", os.path.join(here, "zodb", "var", "mail"))
        self.quiet = quiet_window(get("notify.quiet_hours", "22:00-08:00"))
        self.quiet_channels = tuple(get("notify.quiet_channels", "sms").split())
        self.rates = {ch: _float(settings, f"notify.rate.{ch}", 0) for ch in ("mail", "sms", "office")}
        self.mailing_window = int(get("notify.mailing_window", 500))
        # e-mail
        self.mail_host = get("notify.mail.host", "127.0.0.1")
        self.mail_port = int(get("notify.mail.port", 25))
        self.mail_security = get("notify.mail.security", "none")
        if self.mail_security not in ("none", "starttls", "ssl"):
            raise ValueError("notify.mail.security: none, starttls or ssl")
        self.mail_user = get("notify.mail.user", "")
        self.mail_password = get("notify.mail.password", "")
        self.mail_from = get("notify.mail.from", "billing@localhost")
        self.mail_timeout = _float(settings, "notify.mail.timeout", 30)
        self.mail_cafile = get("notify.mail.cafile", "") or None
        self.mail_connections = max(1, int(get("notify.mail.connections", 1)))
        # SMS
        self.sms_gateway = get("notify.sms.gateway", "smpp")
        if self.sms_gateway not in ("smpp", "http"):
            raise ValueError("notify.sms.gateway: smpp or http")
        self.sms_sender = get("notify.sms.sender", "Portmonet")
        self.smpp_host = get("notify.smpp.host", "127.0.0.1")
        self.smpp_port = int(get("notify.smpp.port", 2775))
        self.smpp_system_id = get("notify.smpp.system_id", "portmonet")
        self.smpp_password = get("notify.smpp.password", "")
        self.smpp_system_type = get("notify.smpp.system_type", "")
        self.smpp_timeout = _float(settings, "notify.smpp.timeout", 10)
        self.http_url = get("notify.http_sms.url", "")
        self.http_body = json.loads(get("notify.http_sms.body",
                                        '{"to": "${to}", "text": "${text}", "from": "${sender}", '
                                        '"ref": "${ref}"}'))
        self.http_id_field = get("notify.http_sms.id_field", "id")
        self.http_token = get("notify.http_sms.token", "")
        self.http_auth = get("notify.http_sms.authorization", "")
        self.http_timeout = _float(settings, "notify.http_sms.timeout", 10)
        self.callback_token = get("notify.http_sms.callback_token", "")

    def shown(self):
        """The settings as they may be logged: secrets as '***'."""
        return {k: ("***" if any(w in k for w in SECRET_WORDS) and v else v)
                for k, v in sorted(self.raw.items())}

    def __repr__(self):
        return f"<notify settings {self.shown()}>"
