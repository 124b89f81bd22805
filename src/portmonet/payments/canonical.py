"""The canonical form of what payment channels send: identifiers and
request parameters (amounts: :func:`portmonet.money.parse_canonical`).

Every channel accepts only the one ASCII spelling of an id, so two
spellings of the same number (leading zeros, non-ASCII digits, a trailing
line break) can never be two payments; the duplicate checks compare these
canonical values.  What each protocol calls canonical is listed in
docs/payments.md ("Canonical input"); a refusal is a :class:`NotCanonical`
that the channel turns into its own error answer.
"""
import re


class NotCanonical(ValueError):
    """A parameter that is not in its canonical form; ``field`` names it."""

    def __init__(self, field, message):
        super().__init__(f"{field}: {message}")
        self.field = field


# A number written as a terminal network numbers its transactions.
_NUMBER = re.compile(r"(?:0|[1-9][0-9]*)", re.ASCII)
# An opaque token (a provider's payment id, a bank reference): printable
# ASCII, no space or control character.
_TOKEN = re.compile(r"[!-~]+", re.ASCII)


def number(text, field, max_digits=20):
    """*text* if it is a decimal number without leading zeros, of at most
    *max_digits* ASCII digits."""
    if not isinstance(text, str) or len(text) > max_digits or not _NUMBER.fullmatch(text):
        raise NotCanonical(field, f"must be 1-{max_digits} ASCII digits without leading zeros")
    return text


def digits(text, field, length):
    """*text* if it is exactly *length* ASCII digits (leading zeros are part
    of a fixed-width number, such as a card's serial or PIN)."""
    if not isinstance(text, str) or len(text) != length or not text.isascii() \
            or not text.isdigit():
        raise NotCanonical(field, f"must be {length} ASCII digits")
    return text


def token(text, field, pattern=_TOKEN, max_length=100):
    """*text* if *pattern* (a compiled regex, default printable ASCII)
    matches all of it and it is at most *max_length* characters."""
    if not isinstance(text, str) or not 0 < len(text) <= max_length \
            or not pattern.fullmatch(text):
        raise NotCanonical(field, f"must be 1-{max_length} characters of {pattern.pattern}")
    return text


def single(pairs, names):
    """``{name: value}`` of *names* from the request's ``(name, value)``
    pairs; a name given more than once is refused, not "last one wins"."""
    out = {}
    for name, value in pairs:
        if name in names:
            if name in out:
                raise NotCanonical(name, "given more than once")
            out[name] = value
    return out


def single_values(multidict, names):
    """:func:`single` over a WebOb MultiDict (``request.POST``, ``.params``)."""
    return single(multidict.items(), names)
