"""Rendering a template: Jinja2's sandbox, StrictUndefined, HTML escaped.

Templates are edited by staff in the workplace, so they run sandboxed (no
attribute of a Python object that could reach code: the sandbox refuses
``__class__`` and friends) and see only plain values (strings, numbers).
An undefined variable is an error naming it, not an empty string. HTML
templates escape every value; text templates (mail text, SMS, office) are
plain text and need none.
"""
import functools

from jinja2 import StrictUndefined, TemplateError
from jinja2.sandbox import SandboxedEnvironment

_text = SandboxedEnvironment(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=True)
_html = SandboxedEnvironment(undefined=StrictUndefined, autoescape=True, keep_trailing_newline=True)


class RenderError(ValueError):
    """A template that cannot be compiled or rendered; the text says why."""


@functools.lru_cache(maxsize=512)
def _compiled(source, html):
    return (_html if html else _text).from_string(source)


def compile_check(source, html=False):
    """Refuse a template that does not compile (for the editing form)."""
    try:
        _compiled(source, html)
    except TemplateError as exc:
        raise RenderError(_describe(exc)) from None


def render(source, variables, html=False):
    if not source:
        return ""
    try:
        return _compiled(source, html).render(variables)
    except TemplateError as exc:
        raise RenderError(_describe(exc)) from None


def _describe(exc):
    line = getattr(exc, "lineno", None)
    where = f" (line {line})" if line else ""
    return f"{type(exc).__name__}: {exc.message or exc}{where}"
