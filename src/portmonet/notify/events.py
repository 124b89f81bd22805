"""The events the notifier knows, with their shipped default templates.

Each event is a file ``defaults/<event>.yaml``: its title, whether it is
mandatory (sent whatever the subscriber's channel choices: a block for
debt, a one-time code) and urgent (no quiet hours), the variables its
templates may use, and per language and channel the default texts.
"""
import functools
import os

import yaml

HERE = os.path.join(os.path.dirname(__file__), "defaults")
CHANNELS = ("mail", "sms", "office")
LANGUAGES = ("ru", "en")
MAILING = "mailing"          # a mass mailing: its texts are its own

# Every template may use these besides its event's own.
COMMON = {
    "name": "the subscriber's name",
    "subscriber": "the subscriber's id",
    "operator": "the operator's name (notify.operator_name)",
    "office_url": "the office's address (notify.office_url)",
}

# The template names some deciders wrote before the events had names.
ALIASES = {"payment received": "payment-received",
           "transfer confirmation": "one-time-code"}


class Event:
    def __init__(self, name, title, mandatory, urgent, variables, texts):
        self.name = name
        self.title = title
        self.mandatory = mandatory
        self.urgent = urgent
        self.variables = dict(COMMON, **variables)
        self.texts = texts           # lang -> channel -> {"subject", "text", "html"}

    def default(self, channel, lang):
        return self.texts.get(lang, {}).get(channel)


@functools.lru_cache(maxsize=1)
def events():
    out = {}
    for filename in sorted(os.listdir(HERE)):
        if not filename.endswith(".yaml"):
            continue
        name = filename[:-5]
        with open(os.path.join(HERE, filename), encoding="utf-8") as f:
            data = yaml.safe_load(f)
        texts = {lang: data.get(lang) or {} for lang in LANGUAGES}
        out[name] = Event(name, data["title"], bool(data.get("mandatory")),
                          bool(data.get("urgent")), data.get("variables") or {}, texts)
    return out


def event_name(payload):
    """The event a message is about (its ``event``, or an older ``template``)."""
    name = payload.get("event") or payload.get("template") or ""
    return ALIASES.get(name, name)


def get(name):
    return events().get(name)
