"""Import and export of a subscriber base as CSV.

The layout (UTF-8, comma-separated, a header row; column order free)::

    login,password,name,phone,email,contract,tariff,balance,credit_limit,ip

required: ``login``, ``name``, ``contract``, ``tariff`` (a tariff's name);
``balance`` and ``credit_limit`` in major units with a decimal point
("1234.50"); optional extra columns: ``kind`` (person | organisation),
``address``, ``currency`` (ISO 4217, default RUB), ``status`` (contract
status, default active), ``account`` (account number; generated when empty).

Import validates every row first and reports each bad one with its line
number and reason; only a file with no bad row is written, in one
transaction (with savepoints, so memory stays bounded), so nothing is ever
half-imported.
"""
import csv
import io

from ..catalog import normalize
from ..catalog.indexes import DuplicateKeyError
from ..model.contract import STATUSES, valid_account_number
from ..model.root import get_root
from ..model.services import InternetService
from ..model.subscriber import KINDS, Subscriber
from ..money import CURRENCY_EXPONENTS, MoneyError, format_amount, to_minor
from ..txn import describe

COLUMNS = ["login", "password", "name", "phone", "email", "contract", "tariff",
           "balance", "credit_limit", "ip"]
EXTRA_COLUMNS = ["kind", "address", "currency", "status", "account"]
REQUIRED = ["login", "name", "contract", "tariff"]


class ImportRejected(Exception):
    def __init__(self, errors):
        self.errors = errors
        super().__init__(f"{len(errors)} bad row(s)")


def read_text(data, encoding="utf-8"):
    """Decode the file, reporting the line of the first undecodable byte."""
    try:
        text = data.decode("utf-8-sig" if encoding.lower().replace("_", "-") in ("utf-8", "utf8")
                           else encoding)
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b"\n") + 1
        raise ImportRejected([(line, f"not valid {encoding} text (byte 0x{data[exc.start]:02x}); "
                                     "use --encoding cp1251 for a Windows-1251 file")]) from None
    except LookupError:
        raise ImportRejected([(0, f"unknown encoding {encoding!r}")]) from None
    if "\x00" in text:
        raise ImportRejected([(text[:text.index("\x00")].count("\n") + 1,
                               "NUL byte: this is not a text file")])
    return text


class Row:
    """One validated row, ready to write."""

    def __init__(self, line, values, tariff):
        self.line = line
        self.v = values
        self.tariff = tariff


def validate(root, text):
    """Parse and check every row; returns validated rows or raises ImportRejected."""
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = [h.strip() for h in (reader.fieldnames or [])]
    missing = [c for c in COLUMNS if c not in header]
    if missing:
        raise ImportRejected([(1, f"header lacks column(s): {', '.join(missing)}")])
    unknown = [c for c in header if c not in COLUMNS + EXTRA_COLUMNS]
    if unknown:
        raise ImportRejected([(1, f"unknown column(s): {', '.join(unknown)}")])
    reader.fieldnames = header
    catalog = root.catalog
    tariffs = root["tariffs"]
    errors, rows = [], []
    seen = {"login": {}, "contract": {}, "ip": {}, "account": {}}
    for record in reader:
        line = reader.line_num
        if None in record:
            errors.append((line, "more fields than columns in the header"))
            continue
        values = {k: (v or "").strip() for k, v in record.items()}
        if not any(values.values()):
            continue
        problems = []
        for column in REQUIRED:
            if not values.get(column):
                problems.append(f"{column} is empty")
        currency = values.get("currency") or "RUB"
        if currency not in CURRENCY_EXPONENTS:
            problems.append(f"unknown currency {currency!r}")
            currency = "RUB"
        values["currency"] = currency
        try:
            if values["login"]:
                values["login"] = normalize.login(values["login"])
            if values["phone"]:
                values["phone"] = normalize.phone(values["phone"])
            if values["email"]:
                values["email"] = normalize.email(values["email"])
            if values["ip"]:
                values["ip_key"] = normalize.ipv4(values["ip"])
        except normalize.InvalidValue as exc:
            problems.append(str(exc))
        for column in ("balance", "credit_limit"):
            try:
                values[column] = to_minor(values[column] or "0", currency)
            except MoneyError as exc:
                problems.append(f"{column}: {exc}")
        if isinstance(values.get("credit_limit"), int) and values["credit_limit"] < 0:
            problems.append("credit_limit is negative")
        kind = values.get("kind") or "person"
        if kind not in KINDS:
            problems.append(f"kind must be one of {', '.join(KINDS)}")
        status = values.get("status") or "active"
        if status not in STATUSES:
            problems.append(f"status must be one of {', '.join(STATUSES)}")
        if values.get("account") and not valid_account_number(values["account"]):
            problems.append(f"account {values['account']!r} fails its check digit")
        if len(values["name"]) > 200:
            problems.append("name longer than 200 characters")
        if values["password"] and len(values["password"]) > 128:
            problems.append("password longer than 128 characters")
        if "/" in values["contract"] or len(values["contract"]) > 32:
            problems.append("contract number: 1-32 characters, no '/'")
        tariff = tariffs.get(values["tariff"]) if values["tariff"] else None
        if values["tariff"] and tariff is None:
            problems.append(f"no tariff named {values['tariff']!r}")
        for column, index in (("login", catalog.logins), ("contract", catalog.contracts),
                              ("ip", catalog.ips), ("account", catalog.accounts)):
            key = values.get("ip_key") if column == "ip" else values.get(column)
            if key in (None, ""):
                continue
            if key in index:
                problems.append(f"{column} {values[column]!r} already exists in the database")
            elif key in seen[column]:
                problems.append(f"{column} {values[column]!r} repeats line {seen[column][key]}")
            else:
                seen[column][key] = line
        if problems:
            errors.append((line, "; ".join(problems)))
        else:
            rows.append(Row(line, values, tariff))
    if errors:
        raise ImportRejected(errors)
    return rows


def write_rows(root, rows, txn, savepoint_every=5000, progress=None, user=""):
    """Create the subscribers of validated rows in the current transaction."""
    subscribers = root["subscribers"]
    for n, row in enumerate(rows, 1):
        v = row.v
        try:
            sub = subscribers.add_subscriber(Subscriber(
                v["name"], kind=v.get("kind") or "person", phone=v["phone"] or None,
                email=v["email"] or None, address=v.get("address", "")))
            contract = sub.new_contract(
                v["contract"], status=v.get("status") or "active", currency=v["currency"],
                credit_limit=v["credit_limit"], user=user,
                **({"account_no": v["account"]} if v.get("account") else {}))
            contract.add_service(InternetService(
                v["login"], v["password"] or None, v.get("ip_key"), tariff=row.tariff))
            if v["balance"]:
                contract.account.post(v["balance"], "correction", f"import:{contract.number}",
                                      "Opening balance (import)", user=user)
        except (DuplicateKeyError, ValueError) as exc:
            raise ImportRejected([(row.line, str(exc))]) from None
        if n % savepoint_every == 0:
            txn.savepoint(optimistic=True)
            subscribers._p_jar.cacheGC()
            if progress:
                progress(savepoint_every)
    if progress and len(rows) % savepoint_every:
        progress(len(rows) % savepoint_every)


def import_subscribers(conn, tm, data, encoding="utf-8", user="portmonet import",
                       progress=None):
    """Validate then import; returns the number of subscribers created."""
    root = get_root(conn.root())
    rows = validate(root, read_text(data, encoding))
    txn = tm.begin()
    describe(txn, user, f"import {len(rows)} subscribers")
    try:
        write_rows(root, rows, txn, progress=progress, user=user)
        tm.commit()
    except BaseException:
        tm.abort()
        raise
    return len(rows)


def export_rows(root, with_passwords=False):
    """Rows of the import layout (plus the extra columns), one per contract."""
    for subscriber in root["subscribers"].values():
        for contract in subscriber.values():
            account = contract.account
            inet = next(iter(contract.services("internet")), None)
            yield {
                "login": inet.login if inet else "",
                "password": (inet.password() or "") if (inet and with_passwords) else "",
                "name": subscriber.name,
                "phone": subscriber.phone or "",
                "email": subscriber.email or "",
                "contract": contract.number,
                "tariff": inet.tariff.name if (inet and inet.tariff) else "",
                "balance": format_amount(account.balance, account.currency),
                "credit_limit": format_amount(account.credit_limit, account.currency),
                "ip": inet.ip_text if inet else "",
                "kind": subscriber.kind,
                "address": subscriber.address,
                "currency": account.currency,
                "status": contract.status,
                "account": account.number,
            }


def export_subscribers(root, out, with_passwords=False):
    writer = csv.DictWriter(out, fieldnames=COLUMNS + EXTRA_COLUMNS, lineterminator="\n")
    writer.writeheader()
    n = 0
    for row in export_rows(root, with_passwords):
        writer.writerow(row)
        n += 1
    return n
