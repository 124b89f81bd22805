"""Which text an event has for a channel and language: the one edited in
the workplace (kept in ``root["notify"].templates``), else the shipped
default; a language without a text falls back to the operator's default
language, then to English."""
from . import events
from .model import Template


class Text:
    def __init__(self, subject="", text="", html="", edited=False):
        self.subject = subject or ""
        self.text = text or ""
        self.html = html or ""
        self.edited = edited


def find(notify, event, channel, lang, default_lang="ru"):
    for candidate in dict.fromkeys((lang, default_lang, "en")):
        text = exact(notify, event, channel, candidate)
        if text is not None:
            return text
    return None


def exact(notify, event, channel, lang):
    held = notify.templates.get((event, channel, lang)) if notify is not None else None
    if held is not None:
        return Text(held.subject, held.text, held.html, edited=True)
    known = events.get(event)
    shipped = known.default(channel, lang) if known is not None else None
    if shipped is not None:
        return Text(**shipped)
    return None


def save(notify, event, channel, lang, subject, text, html, user):
    notify.templates[(event, channel, lang)] = Template(subject, text, html, user)


def reset(notify, event, channel, lang):
    notify.templates.pop((event, channel, lang), None)
