"""``portmonet payments ...``: agents, providers, bank statements, suspense,
cards, the journal and reconciliation."""
import datetime
import sys

import click

from .. import clock
from .. import db as dbmod
from ..cli import app_root, progress_bar, transact_or_refuse
from . import checks  # noqa: F401  (registers the books check)


def register(cli):
    cli.add_command(payments)


@click.group()
def payments():
    """Payment channels: agents, bank statements, cards, reconciliation."""


def _app(conn):
    root = app_root(conn)
    if "payments" not in root:
        raise click.ClickException("no /payments: run 'portmonet evolve'")
    return root


@payments.group("agent")
def agent_group():
    """Payment agents and providers."""


@agent_group.command("add")
@click.argument("name")
@click.option("--protocol", type=click.Choice(["osmp", "callback"]), required=True)
@click.option("--allow", "allow", multiple=True, help="Address or network allowed (repeatable).")
@click.option("--login", default=None)
@click.option("--password", default=None, help="OSMP password (argon2-hashed).")
@click.option("--secret", default=None, help="Callback HMAC secret (kept encrypted).")
@click.option("--title", default="")
@click.pass_obj
def agent_add(env, name, protocol, allow, login, password, secret, title):
    """Create an agent (osmp) or a provider (callback) under /payments."""
    from .agents import OsmpAgent, Provider
    if protocol == "osmp" and not allow:
        raise click.ClickException("an OSMP agent needs at least one --allow address")
    if protocol == "callback" and not secret:
        raise click.ClickException("a callback provider needs --secret")

    def add(root):
        if "payments" not in root:
            raise click.ClickException("no /payments: run 'portmonet evolve'")
        payments_ = root["payments"]
        if name in payments_:
            raise click.ClickException(f"agent {name!r} exists")
        if protocol == "osmp":
            agent = OsmpAgent(name, allow, login, password, title)
        else:
            agent = Provider(name, secret, allow, title)
        payments_.add_agent(agent, root.catalog)
        return agent.account.number
    number = transact_or_refuse(env, add, "portmonet payments", f"add agent {name}")
    click.echo(f"agent {name} ({protocol}) added; settlement account {number}")


@agent_group.command("list")
@click.pass_obj
def agent_list(env):
    with dbmod.connection(env.db) as (conn, tm):
        for agent in _app(conn)["payments"].agents():
            click.echo(f"{agent.name}\t{agent.protocol}\t{','.join(agent.allow) or '-'}\t"
                       f"{'active' if agent.active else 'disabled'}\t"
                       f"account {agent.account.number if agent.account else '-'}")


@payments.group("bank")
def bank_group():
    """Bank statements and the suspense queue."""


@bank_group.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--format", "fmt", type=click.Choice(["camt053", "1c", "csv"]), required=True)
@click.option("--bank", "bank_name", default="bank", show_default=True,
              help="Name of the bank (part of each payment's cause).")
@click.option("--columns", default="", help="CSV: field=column,... (ref, date, amount, "
              "purpose, payer, payer_tax_id, payer_account, currency).")
@click.option("--delimiter", default=";", show_default=True)
@click.option("--encoding", default="cp1251", show_default=True)
@click.option("--date-format", default="%d.%m.%Y", show_default=True)
@click.option("--decimal", default=",", show_default=True,
              help="CSV: the decimal separator of amounts")
@click.option("--group", default="",
              help="CSV: the thousands separator of amounts, if the bank writes one")
@click.option("--batch", type=click.IntRange(1), default=1000, show_default=True)
@click.pass_obj
def bank_import(env, path, fmt, bank_name, columns, delimiter, encoding, date_format, decimal,
                group, batch):
    """Import a statement: post what matches, queue the rest in suspense.

    The file is journaled once (name, digest, size, its first 64 KiB): an
    import of a file whose digest is in the journal already — a repeat, or
    the resumption of an import that was killed — finishes that entry
    again.  Lines are booked in transactions of --batch lines; each line
    posts under its own cause, so a resumed import books only what the
    killed one had not committed.  Progress goes to stderr.
    """
    import hashlib
    import os
    from .bank import import_statement
    from .bankfiles import CsvLayout, StatementError, parse
    with open(path, "rb") as f:
        data = f.read()
    digest = hashlib.sha256(data).hexdigest()

    def journal_file(root):
        journal = root["payments"].journal
        for entry in journal.for_ext_id(bank_name, digest):
            if entry.channel == "bank":
                return entry.key, entry.status
        return journal.record("bank", bank_name, "", "FILE", os.path.abspath(path),
                              f"format={fmt}&size={len(data)}", data, ext_id=digest).key, None
    key, before = dbmod.transact(env.db, journal_file, "portmonet payments bank import",
                                 f"journal statement {path}")
    if before == "received":
        click.echo(f"resuming the unfinished import of this file (journal entry {key})", err=True)

    def finish(status, outcome):
        def record(root):
            journal = root["payments"].journal
            earlier = journal.get(key).outcome if before in ("done", "rejected") else ""
            # A repeat keeps what the first import did, then says what this one did.
            journal.finish(key, status, f"{earlier}; again: {outcome}" if earlier else outcome)
        dbmod.transact(env.db, record, "portmonet payments bank import", "statement outcome")
    try:
        layout = CsvLayout.from_text(columns, delimiter=delimiter, encoding=encoding,
                                     date_format=date_format, decimal=decimal,
                                     group=group) if fmt == "csv" else None
        lines = parse(data, fmt, layout)
    except StatementError as exc:
        finish("rejected", str(exc))
        raise click.ClickException(f"{path}: {exc} (nothing imported)")
    started = datetime.datetime.now()
    with progress_bar(len(lines), "bank statement lines") as bar:
        total = import_statement(env.db, bank_name, lines, "portmonet payments bank import",
                                 source=path, batch=batch, progress=bar.update)
    seconds = (datetime.datetime.now() - started).total_seconds()
    finish("done", ", ".join(f"{k}={v}" for k, v in total.items()))
    click.echo(f"{total['lines']} incoming lines: {total['posted']} posted, "
               f"{total['suspense']} to suspense, {total['skipped']} already known "
               f"({seconds:.1f} s)")


@bank_group.command("suspense")
@click.pass_obj
def bank_suspense(env):
    """List payments waiting for an accountant."""
    from ..money import format_amount
    with dbmod.connection(env.db) as (conn, tm):
        for item in _app(conn)["payments"].bank.waiting_items(limit=1000):
            ref, date, amount, currency, payer, tax_id, acct, purpose = item.line
            click.echo(f"{item.bank}\t{ref}\t{date}\t{format_amount(amount, currency)}\t"
                       f"{payer}\t{tax_id}\t{purpose}")


@bank_group.command("assign")
@click.argument("ref")
@click.argument("account")
@click.option("--bank", "bank_name", default="bank", show_default=True)
@click.option("--user", default="portmonet payments", show_default=True)
@click.pass_obj
def bank_assign(env, ref, account, bank_name, user):
    """Post a waiting payment to ACCOUNT (number, contract, login or phone)."""
    from .bank import assign
    transact_or_refuse(env, lambda root: assign(root, bank_name, ref, account, user),
                       user, f"assign bank payment {ref}", refused=(KeyError, ValueError))
    click.echo(f"{ref} posted to {account}")


@payments.group("cards")
def cards_group():
    """Prepaid (scratch) cards."""


@cards_group.command("generate")
@click.option("--series", required=True)
@click.option("--nominal", required=True, help="Amount in major units, e.g. 500.00")
@click.option("--count", type=click.IntRange(1, 1_000_000), required=True)
@click.option("--expires", type=click.DateTime(["%Y-%m-%d"]), required=True)
@click.option("--out", "out", type=click.Path(dir_okay=False, writable=True), required=True,
              help="CSV for the printer: the only copy of the PINs.")
@click.option("--pdf", "pdf_out", type=click.Path(dir_okay=False, writable=True),
              help="Also a PDF printing sheet (serials and PINs), made at the same time.")
@click.pass_obj
def cards_generate(env, series, nominal, count, expires, out, pdf_out):
    """Make a batch.  PINs are stored only hashed, so the printer's files
    (CSV, PDF) are written now, once, to new files of mode 600; the files
    are created before the batch, so a path that cannot be written stops
    the generation instead of losing the PINs."""
    from ..money import to_minor
    from .cards import CardError, export_csv
    from .pdf import card_sheet_pdf
    env.settings          # a bad ini fails here, before the PIN files are made
    import os
    files = []
    paths = [out] + ([pdf_out] if pdf_out else [])
    for path in paths:
        try:
            files.append(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        except FileExistsError:
            for fd, made in zip(files, paths):
                os.close(fd)
                os.remove(made)
            raise click.ClickException(f"{path} exists: the PINs are written once, to a new file")

    def make(root):
        batch, pins = root["payments"].cards.generate(series, to_minor(nominal), count,
                                                      expires.date(), "portmonet payments")
        return (export_csv(batch, pins).encode("utf-8"),
                card_sheet_pdf(batch, pins) if pdf_out else None)
    try:
        text, sheet = dbmod.transact(env.db, make, "portmonet payments", f"generate cards {series}")
    except CardError as exc:
        for fd, path in zip(files, paths):
            os.close(fd)
            os.remove(path)
        raise click.ClickException(str(exc))
    for fd, data in zip(files, [text, sheet]):
        with os.fdopen(fd, "wb") as f:
            f.write(data)
    click.echo(f"batch {series}: {count} cards; PINs written to {out}"
               + (f" and {pdf_out}" if pdf_out else "") + " (mode 600)")


@cards_group.command("issue")
@click.argument("series")
@click.argument("dealer")
@click.pass_obj
def cards_issue(env, series, dealer):
    from .cards import CardError

    def issue(root):
        staff = root["staff"].get(dealer)
        if staff is None or "dealer" not in staff.roles:
            raise CardError(f"{dealer!r} is not a staff user with the dealer role")
        root["payments"].cards.issue(series, dealer)
    transact_or_refuse(env, issue, "portmonet payments", f"issue cards {series} to {dealer}",
                       refused=(CardError, KeyError))
    click.echo(f"batch {series} issued to {dealer}")


@cards_group.command("export")
@click.argument("series")
@click.pass_obj
def cards_export(env, series):
    """Inventory CSV of a batch (statuses; PINs are never stored in clear)."""
    from .cards import export_csv
    with dbmod.connection(env.db) as (conn, tm):
        cards = _app(conn)["payments"].cards
        if series not in cards:
            raise click.ClickException(f"no batch {series}")
        sys.stdout.write(export_csv(cards[series]))


@payments.group("journal", invoke_without_command=True)
@click.option("--channel", default=None)
@click.option("--agent", default=None)
@click.option("--status", default=None)
@click.option("--text", default=None)
@click.option("--limit", type=click.IntRange(1, 10000), default=50, show_default=True)
@click.pass_context
def journal_cmd(ctx, channel, agent, status, text, limit):
    """Search the raw request journal (newest first); or a subcommand."""
    if ctx.invoked_subcommand is not None:
        return
    env = ctx.obj
    with dbmod.connection(env.db) as (conn, tm):
        journal = _app(conn)["payments"].journal
        for e in journal.search(channel, agent, status, text, limit=limit):
            click.echo(f"{clock.stamp(e.received_us)} {e.channel} {e.agent} {e.remote} {e.status} "
                       f"{e.ext_id} {e.query or journal.text(e)[:200]} -> {e.outcome}")


@journal_cmd.command("purge")
@click.option("--older-than", "days", type=click.IntRange(1, None), required=True,
              help="Remove entries received more than DAYS days ago.")
@click.option("--batch", type=click.IntRange(1, 100000), default=2000, show_default=True,
              help="Entries looked at per transaction.")
@click.pass_obj
def journal_purge(env, days, batch):
    """Remove old journal entries, oldest first, a batch per transaction.

    Entries whose outcome was never settled (received, error) are kept;
    the register and the ledger, which reconciliation compares, are not
    touched, nor the agents' stored answers to repeated txn_ids.
    """
    from .clock import now_us
    before = now_us() - days * 86_400_000_000
    removed = kept = 0
    after = None
    while True:
        def step(root, after=after):
            return root["payments"].journal.purge(before, batch, after)
        gone, held, after = dbmod.transact(env.db, step, "portmonet payments journal purge",
                                           f"purge journal entries older than {days} days")
        removed, kept = removed + gone, kept + held
        if after is None:
            break
    click.echo(f"removed {removed} journal entries older than {days} days; "
               f"kept {kept} without a settled outcome")


@payments.command("reconcile")
@click.argument("channel")
@click.argument("day")
@click.option("--agent", default=None, help="With --register: whose register.")
@click.option("--register", "register_path", type=click.Path(exists=True, dir_okay=False),
              help="The agent's daily register: CSV ext_id;account;amount.")
@click.pass_obj
def reconcile_cmd(env, channel, day, agent, register_path):
    """Received vs booked for CHANNEL on DAY (YYYY-MM-DD, UTC); exit 1 on differences."""
    import csv
    from ..money import format_amount, parse_canonical
    from .canonical import token
    from .reconcile import compare_register, reconcile
    rows = []
    if register_path:
        if not agent:
            raise click.ClickException("--register needs --agent")
        with open(register_path, encoding="utf-8") as f:
            for n, row in enumerate(csv.reader(f, delimiter=";"), 1):
                if not row or row[0].strip().lower() in ("txn_id", "ext_id"):
                    continue
                try:
                    rows.append((token(row[0], "ext_id"), token(row[1], "account", max_length=64),
                                 parse_canonical(row[2])))
                except (IndexError, ValueError) as exc:
                    raise click.ClickException(f"{register_path}:{n}: {exc}")
    with dbmod.connection(env.db) as (conn, tm):
        root = _app(conn)
        result = reconcile(root, channel, day)
        click.echo(f"{channel} {day}: received {result['received']} "
                   f"({format_amount(result['received_sum'])}), booked {result['booked']} "
                   f"({format_amount(result['booked_sum'])})")
        diffs = list(result["differences"])
        for d in diffs:
            click.echo(f"DIFFERENCE {d[0]}: {d[1]}")
        if register_path:
            theirs = compare_register(root, channel, agent, day, rows)
            for ext_id, what, their, our in theirs:
                click.echo(f"REGISTER {ext_id}: {what} (theirs {their}, ours {our})")
            diffs += theirs
    sys.exit(1 if diffs else 0)
