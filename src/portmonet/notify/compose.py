"""From an outbox message to what to send: the recipient, the texts in the
subscriber's language, attachments; or why not (skip, defer, give up).

Runs in the notifier's read transaction, before anything is sent; it
writes nothing.
"""
from ..money import format_amount
from ..outbox import unseal
from . import events, prefs, texts
from .attachments import attachments_for, event_variables
from .templating import RenderError, render

MONEY = ("balance", "credit_limit", "amount", "closing")


class Envelope:
    """One message ready to go out."""

    def __init__(self, key, channel, event, lang, to, subject, text, html="",
                 attachments=(), slot=0, subscriber=None, mailing=None):
        self.key = key
        self.channel = channel
        self.event = event
        self.lang = lang
        self.to = to
        self.subject = subject
        self.text = text
        self.html = html
        self.attachments = list(attachments)   # (filename, "type/subtype", bytes)
        self.slot = slot
        self.subscriber = subscriber
        self.mailing = mailing


class Outcome:
    """What became of one message: sent, failed (retry), given-up (dead
    letter), skipped (nothing to do) or deferred (later, no attempt used)."""

    def __init__(self, state, text="", until_us=0, ext_id=None, apply=None):
        self.state = state
        self.text = text
        self.until_us = until_us
        self.ext_id = ext_id       # the gateway's message id (SMS receipts)
        self.apply = apply         # a write done in the recording transaction (office)

    def __repr__(self):
        return f"<Outcome {self.state} {self.text!r}>"


def subscriber_of(root, payload):
    sid = payload.get("subscriber")
    if sid is not None:
        found = root["subscribers"].get(sid)
        if found is not None:
            return found
    number = payload.get("contract")
    contract = root.catalog.contracts.get(number) if number else None
    return contract.__parent__ if contract is not None else None


def _currency(root, payload):
    if payload.get("currency"):
        return payload["currency"]
    number = payload.get("contract")
    contract = root.catalog.contracts.get(number) if number else None
    account = getattr(contract, "account", None)
    return getattr(account, "currency", None) or "RUB"


def variables(root, payload, subscriber, settings):
    """What a template sees: plain values only (the sandbox sees no objects)."""
    out = {k: v for k, v in payload.items()
           if isinstance(v, (str, int, float, bool)) and k not in ("to", "template", "event")}
    currency = _currency(root, payload)
    for key in MONEY:
        if isinstance(out.get(key), int) and not isinstance(out.get(key), bool):
            out[key] = format_amount(out[key], currency)
    out.setdefault("currency", currency)
    out.update(event_variables(root, payload))
    out.update(unseal(payload))          # (a one-time code: in clear only here, in memory)
    out.update(name=getattr(subscriber, "name", "") or "",
               subscriber=getattr(subscriber, "id", None) or payload.get("subscriber") or "",
               operator=settings.operator, office_url=settings.office_url)
    return out


def address(channel, subscriber, payload):
    """Today's address of the subscriber (else the one the decider saw)."""
    if channel == "mail":
        return getattr(subscriber, "email", None) or payload.get("to")
    if channel == "sms":
        return getattr(subscriber, "phone", None) or payload.get("to")
    return getattr(subscriber, "id", None)


def _mailing(notify, payload):
    """(the mass mailing a message belongs to, why it is not sent)."""
    mailing = notify.get(str(payload.get("mailing"))) if notify is not None else None
    if mailing is None:
        return None, "the mailing no longer exists"
    if mailing.state == "cancelled":
        return None, "the mailing was cancelled"
    return mailing, None


def compose(root, message, settings, now_us):
    payload = message.payload
    channel = message.channel
    name = events.event_name(payload)
    event = events.get(name)
    if event is None and name != events.MAILING:
        return Outcome("given-up", f"unknown event {name!r}")
    notify = root.get("notify")
    mailing = None
    if name == events.MAILING:
        mailing, why = _mailing(notify, payload)
        if why:
            return Outcome("skipped", why)
    subscriber = subscriber_of(root, payload)
    marketing = bool(payload.get("marketing"))
    if subscriber is not None:
        why = prefs.refusal(subscriber, event, channel, marketing)
        if why:
            return Outcome("skipped", why)
    to = address(channel, subscriber, payload)
    if not to:
        what = {"mail": "no e-mail address", "sms": "no phone number"}.get(channel, "no subscriber")
        return Outcome("skipped", what)
    urgent = event is not None and event.urgent
    if channel in settings.quiet_channels and not urgent:
        until = prefs.quiet_until(now_us, prefs.window(subscriber, settings.quiet))
        if until:
            return Outcome("deferred", "quiet hours", until_us=until)
    lang = prefs.language(subscriber, settings.language)
    text = (mailing.text_for(channel) if mailing is not None
            else texts.find(notify, name, channel, lang, settings.language))
    if text is None:
        return Outcome("skipped", f"no {channel} template for {name}")
    values = variables(root, payload, subscriber, settings)
    try:
        subject = render(text.subject, values).strip()
        body = render(text.text, values)
        html = render(text.html, values, html=True) if channel == "mail" else ""
    except RenderError as exc:
        return Outcome("given-up", f"template {name}/{channel}/{lang}: {exc}")
    return Envelope(message.key, channel, name, lang, to, subject, body, html,
                    attachments_for(root, payload) if channel == "mail" else (),
                    slot=message.slot, subscriber=getattr(subscriber, "id", None),
                    mailing=payload.get("mailing"))
