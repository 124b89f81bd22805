"""Reading bank statements into :class:`BankLine` rows (incoming payments only).

* ISO 20022 ``camt.053`` (any version: tags are matched by local name);
* the 1C "ClientBank" exchange text (``1CClientBankExchange``), cp1251
  (``Кодировка=Windows``) or cp866 (``Кодировка=DOS``);
* CSV laid out as the operator's bank writes it, described by a
  :class:`CsvLayout`.

Amounts become minor units through :func:`portmonet.money.parse_canonical`
(camt.053 and 1C: ASCII digits and a dot; CSV: the layout's decimal and,
if declared, group separator); references are printable ASCII without
spaces, and a 1C document number is a number (``000123`` is document
123).  A line that cannot be read is a :class:`StatementError` naming the
line, and nothing of the file is imported.
"""
import csv
import datetime
import hashlib
import io
from collections import namedtuple

from defusedxml import ElementTree

from ..money import MoneyError, parse_canonical
from .canonical import NotCanonical, token

BankLine = namedtuple("BankLine", "ref date amount currency payer payer_tax_id "
                                  "payer_account purpose")


class StatementError(ValueError):
    pass


def _amount(text, currency, where, decimal=".", group=""):
    try:
        amount = parse_canonical(text, currency, decimal, group)
    except MoneyError as exc:
        raise StatementError(f"{where}: {exc}") from None
    if amount <= 0:
        raise StatementError(f"{where}: amount {text!r} is not positive")
    return amount


def _ref(text, where):
    """A payment's reference, as the cause of its posting: printable ASCII
    without spaces, compared as given."""
    try:
        return token(text, "reference", max_length=100)
    except NotCanonical as exc:
        raise StatementError(f"{where}: {exc}") from None


def _document_number(text, where):
    """A 1C document number: digits are a number (leading zeros dropped,
    so "0012" and "12" are one document); anything else a reference."""
    text = _ref(text, where)
    return str(int(text)) if text.isdigit() else text


# -- camt.053 -------------------------------------------------------------
def _local(tag):
    return tag.rsplit("}", 1)[-1]


def _child(el, *path):
    for name in path:
        if el is None:
            return None
        el = next((c for c in el if _local(c.tag) == name), None)
    return el


def _children(el, name):
    return [c for c in el if _local(c.tag) == name] if el is not None else []


def _text(el, *path):
    found = _child(el, *path)
    return (found.text or "").strip() if found is not None else ""


def parse_camt053(data):
    try:
        doc = ElementTree.fromstring(data)
    except Exception as exc:
        raise StatementError(f"camt.053: not well-formed XML ({exc})") from None
    lines = []
    statements = [el for el in doc.iter() if _local(el.tag) == "Stmt"]
    if not statements:
        raise StatementError("camt.053: no <Stmt> in the document")
    for stmt in statements:
        stmt_id = _text(stmt, "Id")
        for n, entry in enumerate(_children(stmt, "Ntry"), 1):
            if _text(entry, "CdtDbtInd") != "CRDT":
                continue
            status = _text(entry, "Sts", "Cd") or _text(entry, "Sts")
            if status and status != "BOOK":
                continue
            date = _text(entry, "BookgDt", "Dt") or _text(entry, "BookgDt", "DtTm")[:10]
            entry_ref = _text(entry, "AcctSvcrRef") or _text(entry, "NtryRef") or f"{stmt_id}/{n}"
            txs = []
            for details in _children(entry, "NtryDtls"):
                txs.extend(_children(details, "TxDtls"))
            for m, tx in enumerate(txs or [None], 1):
                src = tx if tx is not None else entry
                amt = _child(src, "Amt") if tx is not None else None
                if amt is None and tx is not None:
                    amt = _child(tx, "AmtDtls", "TxAmt", "Amt")
                if amt is None:
                    amt = _child(entry, "Amt")
                if amt is None:
                    raise StatementError(f"camt.053: entry {entry_ref} has no amount")
                currency = amt.get("Ccy", "RUB")
                where = f"camt.053 entry {entry_ref}"
                ref = (_text(tx, "Refs", "AcctSvcrRef") or _text(tx, "Refs", "EndToEndId")
                       if tx is not None else "")
                if not ref or ref == "NOTPROVIDED":
                    ref = entry_ref if len(txs) <= 1 else f"{entry_ref}/{m}"
                parties = _child(tx, "RltdPties") if tx is not None else None
                debtor = _child(parties, "Dbtr")
                payer = _text(debtor, "Nm") or _text(debtor, "Pty", "Nm")
                tax_id = (_text(debtor, "Id", "OrgId", "Othr", "Id")
                          or _text(debtor, "Pty", "Id", "OrgId", "Othr", "Id")
                          or _text(debtor, "Id", "PrvtId", "Othr", "Id"))
                acct = (_text(parties, "DbtrAcct", "Id", "IBAN")
                        or _text(parties, "DbtrAcct", "Id", "Othr", "Id"))
                remit = _child(tx, "RmtInf") if tx is not None else None
                purpose = " ".join((u.text or "").strip() for u in _children(remit, "Ustrd"))
                if not purpose and tx is None:
                    purpose = _text(entry, "AddtlNtryInf")
                lines.append(BankLine(_ref(ref, where), date,
                                      _amount((amt.text or "").strip(), currency, where),
                                      currency, payer, tax_id, acct, purpose))
    return lines


# -- 1C ClientBank --------------------------------------------------------
def _decode_1c(data):
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8")
    # The header names its encoding, in that encoding.
    if "Кодировка=DOS".encode("cp866") in data[:2000]:
        return data.decode("cp866")
    return data.decode("cp1251")


def parse_1c(data):
    try:
        text = _decode_1c(data)
    except UnicodeDecodeError as exc:
        raise StatementError(f"1C: cannot decode the file ({exc})") from None
    rows = text.splitlines()
    if not rows or rows[0].strip().lstrip("\ufeff") != "1CClientBankExchange":
        raise StatementError("1C: the file does not start with 1CClientBankExchange")
    ours = set()
    documents = []
    current = None
    for number, raw in enumerate(rows, 1):
        line = raw.strip()
        if not line:
            continue
        key, _, value = line.partition("=")
        if key == "СекцияДокумент":
            current = {"_line": number}
        elif key == "КонецДокумента":
            if current is None:
                raise StatementError(f"1C line {number}: КонецДокумента without a document")
            documents.append(current)
            current = None
        elif current is not None:
            if key.startswith("НазначениеПлатежа") and key != "НазначениеПлатежа":
                current["НазначениеПлатежа"] = (current.get("НазначениеПлатежа", "") + " " + value).strip()
            else:
                current[key] = value.strip()
        elif key == "РасчСчет":
            ours.add(value.strip())
    if current is not None:
        raise StatementError("1C: the last document has no КонецДокумента")
    lines = []
    for doc in documents:
        where = f"1C line {doc['_line']}"
        receiver = doc.get("ПолучательСчет") or doc.get("ПолучательРасчСчет", "")
        if ours and receiver not in ours:
            continue                       # outgoing: paid by the operator
        if not ours and not doc.get("ДатаПоступило"):
            continue
        number, date = doc.get("Номер", ""), doc.get("ДатаПоступило") or doc.get("Дата", "")
        payer_account = doc.get("ПлательщикСчет") or doc.get("ПлательщикРасчСчет", "")
        if not number or not date:
            raise StatementError(f"{where}: a document needs Номер and Дата")
        try:
            iso = datetime.datetime.strptime(date, "%d.%m.%Y").date().isoformat()
        except ValueError:
            raise StatementError(f"{where}: date {date!r} is not DD.MM.YYYY") from None
        number = _document_number(number, where)
        if payer_account:
            payer_account = _ref(payer_account, where)
        lines.append(BankLine(
            f"{iso}/{number}/{payer_account}", iso, _amount(doc.get("Сумма", ""), "RUB", where),
            "RUB", doc.get("Плательщик1") or doc.get("Плательщик", ""),
            doc.get("ПлательщикИНН", ""), payer_account, doc.get("НазначениеПлатежа", "")))
    return lines


# -- CSV ------------------------------------------------------------------
class CsvLayout:
    """Which column holds what; ``columns`` maps field -> column header.

    Fields: ref, date, amount (required), purpose, payer, payer_tax_id,
    payer_account, currency.  Without a ref column a line's ref is a digest
    of the whole row, so re-importing the same file finds the same lines.
    """

    FIELDS = ("ref", "date", "amount", "purpose", "payer", "payer_tax_id",
              "payer_account", "currency")

    def __init__(self, columns, delimiter=";", encoding="cp1251", date_format="%d.%m.%Y",
                 currency="RUB", decimal=",", group=""):
        unknown = set(columns) - set(self.FIELDS)
        if unknown:
            raise StatementError(f"CSV layout: unknown fields {', '.join(sorted(unknown))}")
        missing = {"date", "amount"} - set(columns)
        if missing:
            raise StatementError(f"CSV layout: no column for {', '.join(sorted(missing))}")
        self.columns = dict(columns)
        self.delimiter = delimiter
        self.encoding = encoding
        self.date_format = date_format
        self.currency = currency
        self.decimal = decimal          # the amounts' decimal separator
        self.group = group              # their thousands separator, if any

    @classmethod
    def from_text(cls, spec, **kwargs):
        """'ref=Номер,date=Дата,amount=Сумма' -> layout."""
        columns = {}
        for part in (spec or "").split(","):
            field, _, column = part.partition("=")
            if field.strip():
                columns[field.strip()] = column.strip()
        return cls(columns, **kwargs)


def parse_csv(data, layout):
    try:
        text = data.decode(layout.encoding).lstrip("\ufeff")
    except UnicodeDecodeError as exc:
        raise StatementError(f"CSV: not {layout.encoding} ({exc})") from None
    reader = csv.DictReader(io.StringIO(text), delimiter=layout.delimiter)
    absent = [c for c in layout.columns.values() if c not in (reader.fieldnames or [])]
    if absent:
        raise StatementError(f"CSV: columns not in the header: {', '.join(absent)}")
    lines = []
    seen = {}
    for row in reader:
        where = f"CSV line {reader.line_num}"
        get = lambda field: (row.get(layout.columns.get(field, ""), "") or "").strip()  # noqa: E731
        if not any((v or "").strip() for v in row.values()):
            continue
        try:
            date = datetime.datetime.strptime(get("date"), layout.date_format).date().isoformat()
        except ValueError:
            raise StatementError(f"{where}: date {get('date')!r} does not match "
                                 f"{layout.date_format}") from None
        currency = get("currency") or layout.currency
        ref = get("ref")
        if ref:
            ref = _ref(ref, where)
        else:
            # Identical rows are distinct payments: number their repeats.
            digest = hashlib.sha256("\x1f".join(
                f"{k}={v}" for k, v in sorted(row.items())).encode()).hexdigest()[:24]
            seen[digest] = seen.get(digest, 0) + 1
            ref = f"{digest}-{seen[digest]}"
        lines.append(BankLine(ref, date, _amount(get("amount"), currency, where, layout.decimal,
                                                 layout.group), currency,
                              get("payer"), get("payer_tax_id"), get("payer_account"),
                              get("purpose")))
    return lines


PARSERS = {"camt053": parse_camt053, "1c": parse_1c}


def parse(data, fmt, layout=None):
    if fmt == "csv":
        if layout is None:
            raise StatementError("CSV statements need a layout (--columns)")
        return parse_csv(data, layout)
    try:
        return PARSERS[fmt](data)
    except KeyError:
        raise StatementError(f"unknown statement format {fmt!r}") from None
