"""Masking secrets out of what is kept: request queries and bodies in the
payments journal, texts written to logs.

A secret is the value of a field whose *name* says it is one (a password,
a PIN, a CSRF token, a card number, a CVV, an API key, an SNMP community,
a signing secret), in whichever way the body spells fields:

* ``name=value`` (a query, a form-encoded body, a log line; the value
  runs to ``&``, ``;`` or white space),
* ``"name": value`` (JSON),
* ``<name>value</name>`` and ``name="value"`` (XML elements and attributes),
* a ``multipart/form-data`` part named ``name``.

All four are applied to every text whatever its declared content type (a
client can send JSON labelled as a form), so a secret is masked however it
came.  Masking keeps the field and replaces its value with ``***``.
:func:`install_log_masking` applies the same to every log record.
"""
import functools
import logging
import re

MASK = "***"

# Field names that hold secrets: whole names, with any prefix joined by
# _ - . (new_password, card_pin, x-api-key), a long word also with a
# prefix run in (newPassword, snmpCommunity), a suffix joined or numbered
# (pin1, password_confirm) — but not "shipping", "spin" or "passing".
_LONG = (r"(?:password|passwd|passphrase|secret|csrf_?token|card_?number|cardno|api_?key|"
         r"apikey|community|private_?key|pin_?code)")
_SHORT = r"(?:pass|pwd|pin|pan|cvv2?|cvc2?|otp|csrf|card_?no)"
NAME = (rf"(?:[A-Za-z0-9]+[_.-])*(?:[A-Za-z0-9]*{_LONG}|{_SHORT})"
        r"(?:[_.-][A-Za-z0-9]+|[0-9]+)?")

# Each spelling finds *any* field name (a short run of name characters) and
# its value; only then is the name checked against NAME, anchored.  (NAME
# tried at every position of a long text costs tens of µs per request.)
_KEY = r"[A-Za-z0-9_.-]{1,64}"
_FORM = re.compile(rf"(?:^|(?<=[&?;\s]))({_KEY})=(?!\s*[\"'])[^&;\s]*")
_JSON = re.compile(rf'"({_KEY})"(\s*:\s*)("(?:[^"\\]|\\.)*"|-?[0-9][0-9.eE+-]*|true|false|null)')
_XML_ELEMENT = re.compile(rf"<((?:[A-Za-z0-9_-]+:)?({_KEY}))(\s[^>]*)?>([^<]*)(</\1\s*>)")
_XML_ATTRIBUTE = re.compile(rf"""(?<=\s)({_KEY})(\s*=\s*)("[^"]*"|'[^']*')""")
_MULTIPART = re.compile(
    rf'(Content-Disposition:[^\r\n]*\bname="({_KEY})"[^\r\n]*\r?\n(?:[^\r\n]+\r?\n){{0,8}}\r?\n)'
    r"([^\r\n]*(?:\r?\n(?!--)[^\r\n]*)*)", re.I)


@functools.lru_cache(maxsize=4096)
def is_secret_name(name):
    """True if a field called *name* holds a secret (see NAME)."""
    return _NAME.fullmatch(name) is not None


_NAME = re.compile(NAME, re.I)


def mask_text(text):
    """*text* with the value of every secret field replaced by ``***``."""
    if not text:
        return text or ""

    def multipart(m):
        return m.group(1) + MASK if is_secret_name(m.group(2)) else m.group(0)

    def json_pair(m):
        return f'"{m.group(1)}"{m.group(2)}"{MASK}"' if is_secret_name(m.group(1)) else m.group(0)

    def element(m):
        if not is_secret_name(m.group(2)):
            return m.group(0)
        return f"<{m.group(1)}{m.group(3) or ''}>{MASK}{m.group(5)}"

    def attribute(m):
        return f'{m.group(1)}{m.group(2)}"{MASK}"' if is_secret_name(m.group(1)) else m.group(0)

    def form(m):
        return f"{m.group(1)}={MASK}" if is_secret_name(m.group(1)) else m.group(0)
    text = _MULTIPART.sub(multipart, text)
    text = _JSON.sub(json_pair, text)
    text = _XML_ELEMENT.sub(element, text)
    text = _XML_ATTRIBUTE.sub(attribute, text)
    return _FORM.sub(form, text)


def mask_bytes(data, encoding="utf-8"):
    """:func:`mask_text` of a body; bytes that are not text in *encoding*
    are masked as Latin-1 (every byte kept) and given back unchanged
    where nothing was masked."""
    if not data:
        return data or b""
    try:
        return mask_text(data.decode(encoding)).encode(encoding)
    except UnicodeDecodeError:
        return mask_text(data.decode("latin-1")).encode("latin-1")


_FORMATTER = logging.Formatter()


def _masking_factory(base):
    def make(*args, **kwargs):
        record = base(*args, **kwargs)
        try:
            text = record.getMessage()
        except Exception:             # a broken format: keep the record as it is
            return record
        record.msg, record.args = mask_text(text), None
        if record.exc_info and not record.exc_text:
            record.exc_text = mask_text(_FORMATTER.formatException(record.exc_info))
        return record
    make.masking = True
    return make


def install_log_masking():
    """Every log record this process makes has its secret fields masked
    (its message and its traceback text), whichever handler writes it.
    Idempotent; every process calls it at start."""
    base = logging.getLogRecordFactory()
    if not getattr(base, "masking", False):
        logging.setLogRecordFactory(_masking_factory(base))
