"""How keys are spelled in the indexes, so that a lookup finds what a person typed."""
import ipaddress
import re

_WORD = re.compile(r"[^\W_]+", re.UNICODE)
_LOGIN = re.compile(r"^[A-Za-z0-9._@+\-]{1,64}$")


class InvalidValue(ValueError):
    """A value that cannot be indexed (a malformed phone, login, address)."""


def login(value):
    """Logins are exact (RADIUS compares them so) but never carry spaces."""
    value = (value or "").strip()
    if not _LOGIN.match(value):
        raise InvalidValue(f"login {value!r}: 1-64 letters, digits or . _ @ + -")
    return value


def phone(value):
    """Digits only, in international form; a Russian trunk '8' becomes '7'."""
    digits = re.sub(r"\D", "", value or "")
    if len(digits) == 11 and digits[0] == "8":
        digits = "7" + digits[1:]
    if not 3 <= len(digits) <= 15:
        raise InvalidValue(f"phone {value!r}: 3 to 15 digits expected")
    return digits


def email(value):
    value = (value or "").strip().lower()
    if value.count("@") != 1 or value.startswith("@") or value.endswith("@") \
            or " " in value or len(value) > 254:
        raise InvalidValue(f"e-mail {value!r} is not an address")
    return value


def ipv4(value):
    """Dotted quad -> int key (and back with :func:`ipv4_text`)."""
    try:
        return int(ipaddress.IPv4Address((value or "").strip()))
    except ValueError:
        raise InvalidValue(f"IP address {value!r} is not an IPv4 address") from None


def ipv4_networks(values):
    """Prefixes ('a.b.c.d/n', host bits zero) -> a sorted tuple of their
    canonical texts."""
    out = set()
    for value in values or ():
        try:
            network = ipaddress.IPv4Network(str(value).strip())
        except ValueError:
            raise InvalidValue(f"{value!r} is not an IPv4 network a.b.c.d/n "
                               "(with the host bits zero)") from None
        out.add(str(network))
    return tuple(sorted(out))


def ipv4_text(key):
    return str(ipaddress.IPv4Address(key))


def words(text):
    """Name words, case- and 'ё'-insensitive."""
    folded = (text or "").casefold().replace("ё", "е")
    return [w for w in _WORD.findall(folded)]
