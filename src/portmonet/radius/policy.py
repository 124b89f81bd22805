"""Who may go online, and with what: the decision for one Access-Request.

Tariffs are minimal in the core for now; the policy reads these optional
tariff attributes with ``getattr`` so the tariffs feature can add them
without a change here:

- ``rate_limit``: "UP/DOWN" in MikroTik's notation ("10M/20M", rx/tx as the
  NAS sees them: rx is the subscriber's upload);
- ``cisco_policy_in`` / ``cisco_policy_out``: Cisco ISG QoS policy names,
  used instead of a police() derived from ``rate_limit``;
- ``walled_garden``: a Filter-Id (and MikroTik address list) name; a debtor
  on such a tariff is let into the walled garden instead of rejected;
- ``price_per_minute``: minor units; makes Session-Timeout follow the
  prepaid balance;
- ``allowed_hours``: (first hour, last hour) of the day, local time,
  inclusive; outside them access is refused.

And on the account: ``promised_until_us`` (a promised payment lets a debtor
in until then); on the contract: ``fee_paid_until`` (a date: the licence fee
is paid up to it; when the billing feature sets it and it has passed, access
is refused).
"""
import datetime

from ..catalog import normalize
from .. import clock
from ..ledger.account import now_us
from . import mschap

UNITS = {"k": 1_000, "K": 1_000, "M": 1_000_000, "G": 1_000_000_000}


class Decision:
    __slots__ = ("ok", "reason", "attributes", "service", "recorded", "public", "raw")

    def __init__(self, ok, reason="", attributes=(), service=None, recorded=True, public=True,
                 raw=b""):
        self.raw = raw               # encoded attributes to append (MS-CHAP answers)
        self.ok = ok
        self.reason = reason
        self.attributes = list(attributes)
        self.service = service
        self.recorded = recorded     # shown on the subscriber's card
        self.public = public         # may go to the subscriber in Reply-Message


def reject(reason, service=None, recorded=True, public=True, raw=b""):
    return Decision(False, reason, service=service, recorded=recorded, public=public, raw=raw)


def parse_rate(text):
    """'10M' -> 10_000_000 bits per second."""
    text = text.strip()
    if text and text[-1] in UNITS:
        return int(float(text[:-1]) * UNITS[text[-1]])
    return int(text)


def rate_attributes(tariff, vendor):
    # A rated tariff gives a RateLimit (its ``text`` is "UPk/DOWNk"); a
    # plain one the "UP/DOWN" string itself.
    rate = getattr(tariff, "rate_limit", None)
    rate = getattr(rate, "text", rate)
    attrs = []
    if vendor == "mikrotik" and rate:
        attrs.append(("Mikrotik-Rate-Limit", rate))
    elif vendor == "cisco":
        policy_in = getattr(tariff, "cisco_policy_in", None)
        policy_out = getattr(tariff, "cisco_policy_out", None)
        if policy_in or policy_out:
            if policy_in:
                attrs.append(("Cisco-AVPair", f"subscriber:sub-qos-policy-in={policy_in}"))
            if policy_out:
                attrs.append(("Cisco-AVPair", f"subscriber:sub-qos-policy-out={policy_out}"))
        elif rate:
            up, _, down = rate.partition("/")
            down = down or up
            attrs.append(("Cisco-AVPair",
                          f"ip:qos-policy-in=add-class(sub,(class-default),police({parse_rate(up)}))"))
            attrs.append(("Cisco-AVPair",
                          f"ip:qos-policy-out=add-class(sub,(class-default),police({parse_rate(down)}))"))
    return attrs


def walled_garden_attributes(name, vendor):
    attrs = [("Filter-Id", name)]
    if vendor == "mikrotik":
        attrs.append(("Mikrotik-Address-List", name))
    return attrs


def service_attributes(service, vendor, available, interim_interval):
    """The reply for a subscriber in good standing (also what a CoA sends)."""
    attrs = [("Service-Type", "Framed-User"), ("Framed-Protocol", "PPP")]
    if service.ip is not None:
        attrs.append(("Framed-IP-Address", normalize.ipv4_text(service.ip)))
    tariff = service.tariff
    attrs += rate_attributes(tariff, vendor)
    price = getattr(tariff, "price_per_minute", None)
    if price:
        attrs.append(("Session-Timeout", max(60, available // price * 60)))
    if interim_interval:
        attrs.append(("Acct-Interim-Interval", interim_interval))
    return attrs


def normalize_mac(value):
    hexdigits = "".join(ch for ch in (value or "").lower() if ch in "0123456789abcdef")
    return hexdigits if len(hexdigits) == 12 else (value or "").strip().lower()


def in_hours(hours, zone, when_us=None):
    """Whether the hour now (or at *when_us*) in *zone* is within *hours*."""
    first, last = hours
    when_us = clock.now_us() if when_us is None else when_us
    hour = datetime.datetime.fromtimestamp(when_us / 1e6, zone).hour
    if first <= last:
        return first <= hour <= last
    return hour >= first or hour <= last    # across midnight


_clear_passwords = {}
_CLEAR_LIMIT = 2_000_000


def clear_password(service):
    """The service's clear password, decrypted once per process and value
    (Fernet costs ~50 µs; the process holds the key anyway)."""
    token = service._password
    if token is None:
        return None
    clear = _clear_passwords.get(token)
    if clear is None:
        clear = service.password()
        if len(_clear_passwords) >= _CLEAR_LIMIT:
            _clear_passwords.clear()
        _clear_passwords[token] = clear
    return clear


def check_password(packet, service):
    """PAP, CHAP or MS-CHAP v1/v2 against the service's password; *packet*
    is a :class:`portmonet.radius.codec.Request` with its NAS's secret.
    Returns (ok, reason if not, encoded attributes for the reply)."""
    clear = clear_password(service)
    if clear is None:
        return False, "no password set", b""
    if getattr(packet, "eap", None) is not None:
        return packet.eap.matches(clear), "wrong EAP-MD5 password", b""
    if mschap.CHAP_CHALLENGE in packet:
        ok, why, pairs = mschap.verify(packet, service.login, clear)
        return ok, why, mschap.encode_vendor(pairs)
    ok, why = packet.password_matches(clear)
    return ok, why, b""


def authorize(root, packet, nas, request, interim_interval=300, online_count=None):
    """Decide on one decoded Access-Request from *nas* (a NasEntry).

    *request* is a dict of the plain values the policy reads (login, mac,
    port_id, circuit_id).  Returns a :class:`Decision`.
    """
    login = request.get("login")
    if not login:
        return reject("no User-Name", recorded=False, public=False)
    service = root.catalog.logins.get(login)
    if service is None:
        return reject("unknown login", recorded=False, public=False)
    ok, why, raw = check_password(packet, service)
    if not ok:
        return reject(why, service, public=False, raw=raw)
    if not service.active:
        return reject("service ended or suspended", service)
    contract = service.__parent__
    if contract is None or contract.status != "active":
        return reject(f"contract {getattr(contract, 'status', 'missing')}", service)
    if service.mac and normalize_mac(request.get("mac")) != normalize_mac(service.mac):
        return reject(f"MAC {request.get('mac') or '(none)'} is not the bound {service.mac}", service)
    if service.port:
        seen = (request.get("port_id"), request.get("circuit_id"))
        if service.port not in seen:
            return reject(f"port {seen[0] or seen[1] or '(none)'} is not the bound {service.port}",
                          service)
    tariff = service.tariff
    hours = getattr(tariff, "allowed_hours", None)
    if hours and not in_hours(hours, clock.zone_of(tariff)):
        return reject(f"outside allowed hours {hours[0]}-{hours[1]}", service)
    count = online_count(login, service.max_sessions) if online_count else 0
    if count >= service.max_sessions:
        return reject(f"simultaneous sessions limit {service.max_sessions} reached", service)
    paid_until = getattr(contract, "fee_paid_until", None)
    if paid_until is not None and paid_until < clock.today():
        return reject(f"licence fee unpaid since {paid_until.isoformat()}", service)
    account = contract.account
    available = account.available if account is not None else 0
    promised = account is not None and getattr(account, "promised_until_us", 0) > now_us()
    if available <= 0 and not promised:
        garden = getattr(tariff, "walled_garden", None)
        reason = f"debt: balance {account.balance if account else 0}, credit limit " \
                 f"{account.credit_limit if account else 0}"
        if garden:
            attrs = [("Service-Type", "Framed-User"), ("Framed-Protocol", "PPP")]
            if service.ip is not None:
                attrs.append(("Framed-IP-Address", normalize.ipv4_text(service.ip)))
            attrs += walled_garden_attributes(garden, nas.vendor)
            if interim_interval:
                attrs.append(("Acct-Interim-Interval", interim_interval))
            return Decision(True, "walled garden: " + reason, attrs, service, raw=raw)
        return reject(reason, service)
    return Decision(True, "", service_attributes(service, nas.vendor, max(available, 0),
                                                 interim_interval), service, recorded=False,
                    raw=raw)
