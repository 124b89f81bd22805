"""``portmonet bill``, ``debt-control``, ``promise``, ``invoice``, ``report``."""
import os
import sys
import time

import click

from .. import clock, db as dbmod
from ..cli import app_root, progress_bar
from ..money import MoneyError, to_minor
from . import checks  # noqa: F401  (registers the books check)
from ..clock import day_start_us
from .model import parse_period

USER = "portmonet bill"


def _as_of(value):
    """µs of the date (the operator's midnight) a run pretends it is, or None for now."""
    return day_start_us(value.date()) if value is not None else None


def _period(value):
    try:
        return parse_period(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc))


def _conflicted(counter):
    """' (on charges/OOBucket 12, ...)': where the retries came from."""
    if not counter:
        return ""
    return " (on " + ", ".join(f"{kind}/{cls} {n}" for (kind, cls), n in counter.most_common()) + ")"


def register(cli):

    @cli.command("bill")
    @click.option("--period", required=True, help="YYYY-MM (monthly fees, invoices) or YYYY-MM-DD (daily fees).")
    @click.option("--batch", type=click.IntRange(1, 100_000), default=2000, show_default=True,
                  help="Subscribers per transaction.")
    @click.option("--invoices/--no-invoices", default=None,
                  help="Draw invoices (default: when the period is over).")
    @click.option("--debt-control/--no-debt-control", default=True, show_default=True)
    @click.option("--restart", is_flag=True, help="Go over every contract again (still charges nothing twice).")
    @click.option("--as-of", type=click.DateTime(["%Y-%m-%d"]), default=None,
                  help="Run as if it were this day (re-running a past period).")
    @click.option("--workers", type=click.IntRange(1, 64), default=1, show_default=True,
                  help="Worker processes, each over its own range of subscribers.")
    @click.option("--shard", default=None, metavar="I/N",
                  help="Bill only shard I of N (what each worker of --workers N runs); "
                       "the run is numbered and finished by the command without --shard.")
    @click.option("--quiet", is_flag=True, help="No progress.")
    @click.pass_obj
    def bill_cmd(env, period, batch, invoices, debt_control, restart, as_of, workers, shard,
                 quiet):
        """Bill a period for every contract: fees, auto-payment, invoices, debt control."""
        from . import run as runmod
        _period(period)
        env.client_cache = False      # a worker: each object is read once, kept in its cache
        warn_days = int(env.settings.get("portmonet.low_balance_days", 3))
        options = runmod.Options(invoices=invoices, debt_control=debt_control,
                                 warn_days=warn_days)
        now = _as_of(as_of)
        started = time.monotonic()
        if shard is not None:
            index, count = _shard(shard)
            try:
                runmod.start(env.db, period, now, count=count, strict=True)
            except runmod.RunPlanned as exc:
                raise click.ClickException(str(exc))
            stats = runmod.bill_shard(env.db, period, index, now=now, batch=batch,
                                      options=options)
            import resource
            usage = resource.getrusage(resource.RUSAGE_SELF)
            click.echo(f"billed {period} shard {index}/{count}: {stats['contracts']} contracts, "
                       f"{stats['fees']} fees, {stats['invoices']} invoices, "
                       f"{stats['blocked']} blocked, conflicts retried: "
                       f"{runmod.RETRIES['charges']} charges, {runmod.RETRIES['debt']} debt "
                       f"transactions{_conflicted(runmod.CONFLICTED)}, in {time.monotonic() - started:.1f} s "
                       f"(CPU {usage.ru_utime + usage.ru_stime:.1f} s, "
                       f"peak RSS {usage.ru_maxrss / 1024:.0f} MiB)")
            return
        total = _to_bill(env, period, restart)
        if workers > 1:
            from .parallel import run_workers
            args = ["--batch", str(batch)]
            if as_of is not None:
                args += ["--as-of", as_of.strftime("%Y-%m-%d")]
            if invoices is not None:
                args.append("--invoices" if invoices else "--no-invoices")
            if not debt_control:
                args.append("--no-debt-control")
            with _bar(quiet, total, f"billing {period}") as bar:
                try:
                    stats, numbered = run_workers(env.db, env.config, period, workers, args,
                                                  now=now, restart=restart,
                                                  progress=bar.update, echo=click.echo)
                except RuntimeError as exc:
                    raise click.ClickException(str(exc))
        else:
            with _bar(quiet, total, f"billing {period}") as bar:
                stats = runmod.run(env.db, period, now=now, batch=batch, options=options,
                                   progress=bar.update, restart=restart)
            numbered = stats["numbered"]
        seconds = time.monotonic() - started
        click.echo(f"billed {period}: {stats['contracts']} contracts, {stats['fees']} fees, "
                   f"{stats['invoices']} invoices, {stats['blocked']} blocked, "
                   f"{stats['warned']} warned, autopaid {stats['autopaid']}, "
                   f"{numbered} invoices numbered in {seconds:.1f} s{_own_usage()}")

    def _own_usage():
        """This process's own CPU and peak RSS (the workers report theirs)."""
        import resource
        usage = resource.getrusage(resource.RUSAGE_SELF)
        return (f" (this process: CPU {usage.ru_utime + usage.ru_stime:.1f} s, "
                f"peak RSS {usage.ru_maxrss / 1024:.0f} MiB)")

    def _shard(text):
        try:
            index, count = (int(part) for part in text.split("/"))
        except ValueError:
            raise click.BadParameter(f"{text!r}: I/N expected, e.g. 0/2", param_hint="--shard")
        if not 0 <= index < count:
            raise click.BadParameter(f"{text!r}: 0 <= I < N expected", param_hint="--shard")
        return index, count

    def _to_bill(env, period, restart):
        """Subscribers left to bill (for the progress bar)."""
        with dbmod.connection(env.db) as (conn, tm):
            root = app_root(conn)
            state = root["billing"].runs.get(period)
            total = len(root["subscribers"])
            if state is not None and not state.finished_us and not restart:
                total = max(0, total - state.total("contracts"))
        return total

    class _Quiet:
        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

        def update(self, n):
            pass

    def _bar(quiet, total, label):
        return _Quiet() if quiet else progress_bar(total, label)

    @cli.command("debt-control")
    @click.option("--loop", is_flag=True, help="Keep running every --interval seconds.")
    @click.option("--interval", type=float, default=60, show_default=True)
    @click.option("--as-of", type=click.DateTime(["%Y-%m-%d"]), default=None)
    @click.pass_obj
    def debt_cmd(env, loop, interval, as_of):
        """Unblock contracts whose money is back, block those whose grace ran
        out, end promised payments that are due."""
        from .debt import debt_pass
        while True:
            today = as_of.date() if as_of else clock.today()
            out = dbmod.transact(env.db, lambda root: debt_pass(root, root["billing"], today),
                                 USER, "debt control")
            click.echo(f"debt control {today}: {out['blocked']} blocked, "
                       f"{out['unblocked']} unblocked, {out['promises_ended']} promises ended")
            if not loop:
                return
            time.sleep(interval)

    @cli.command("promise")
    @click.argument("contract_number")
    @click.argument("amount")
    @click.option("--days", type=int, default=3, show_default=True)
    @click.pass_obj
    def promise_cmd(env, contract_number, amount, days):
        """Give a contract a promised payment (temporary credit)."""
        from .debt import PromiseRefused, take_promise
        settings = env.settings
        try:
            minor = to_minor(amount)
            max_amount = to_minor(settings.get("portmonet.promise_max", "500.00"))
        except MoneyError as exc:
            raise click.ClickException(str(exc))
        max_days = int(settings.get("portmonet.promise_days", 5))
        interval = int(settings.get("portmonet.promise_interval_days", 30))

        def work(root):
            contract = root.catalog.contracts.get(contract_number)
            if contract is None:
                raise click.ClickException(f"no contract {contract_number!r}")
            try:
                return take_promise(root, root["billing"], contract, minor, days,
                                    clock.today(), max_amount, max_days, interval)
            except PromiseRefused as exc:
                raise click.ClickException(str(exc))
        promise = dbmod.transact(env.db, work, USER, f"promised payment for {contract_number}")
        click.echo(f"promised payment of {amount} for {contract_number} until {promise.until}")

    @cli.group("invoice")
    def invoice_group():
        """Invoices drawn by the billing run."""

    @invoice_group.command("render")
    @click.option("--period", default=None)
    @click.option("--account", default=None)
    @click.option("--number", type=int, default=None)
    @click.option("--format", "fmt", type=click.Choice(["pdf", "html", "both"]), default="pdf",
                  show_default=True)
    @click.option("--out", "out_dir", type=click.Path(file_okay=False), required=True)
    @click.option("--limit", type=click.IntRange(1), default=None, help="Render at most this many.")
    @click.pass_obj
    def render_cmd(env, period, account, number, fmt, out_dir, limit):
        """Render invoices to files (PDF with reportlab, HTML)."""
        from . import render
        os.makedirs(out_dir, exist_ok=True)
        count = 0
        started = time.monotonic()
        with dbmod.connection(env.db) as (conn, tm):
            billing = app_root(conn)["billing"]
            if number is not None:
                chosen = [billing.invoice(number)]
                if chosen[0] is None:
                    raise click.ClickException(f"no invoice number {number}")
            elif period:
                lo, hi = (period, account or ""), (period, account or "\uffff")
                chosen = billing.invoices.values(lo, hi)
            else:
                raise click.UsageError("give --number or --period")
            for inv in chosen:
                if limit is not None and count >= limit:
                    break
                base = os.path.join(out_dir, inv.label)
                if fmt in ("pdf", "both"):
                    with open(base + ".pdf", "wb") as f:
                        f.write(render.pdf(inv))
                if fmt in ("html", "both"):
                    with open(base + ".html", "w", encoding="utf-8") as f:
                        f.write(render.html(inv))
                count += 1
        seconds = time.monotonic() - started
        click.echo(f"rendered {count} invoices in {seconds:.2f} s "
                   f"({count / seconds if seconds else 0:.1f} invoices/s)")

    @cli.group("report")
    def report_group():
        """Reports for accountants (on screen, or CSV with --csv)."""

    def _emit(header, rows, csv_path):
        from .reports import write_csv, write_table
        if csv_path == "-":
            write_csv(sys.stdout, header, rows)
        elif csv_path:
            with open(csv_path, "w", newline="", encoding="utf-8") as f:
                write_csv(f, header, rows)
            click.echo(f"{len(rows)} rows written to {csv_path}")
        else:
            write_table(click.echo, header, rows)

    for name, title in (("charges", "Charged and paid per service and tariff."),
                        ("revenue", "Revenue by tariff.")):
        def make(name=name):
            @click.option("--period", required=True)
            @click.option("--csv", "csv_path", default=None, help="Write CSV here ('-' for stdout).")
            @click.pass_obj
            def report(env, period, csv_path):
                from . import reports
                _, start, end = _period(period)
                with dbmod.connection(env.db) as (conn, tm):
                    root = app_root(conn)
                    func = reports.charges if name == "charges" else reports.revenue_by_tariff
                    header, rows = func(root, conn, day_start_us(start), day_start_us(end))
                _emit(header, rows, csv_path)
            report.__doc__ = title
            return report
        report_group.command(name)(make())

    @report_group.command("debtors")
    @click.option("--csv", "csv_path", default=None, help="Write CSV here ('-' for stdout).")
    @click.pass_obj
    def debtors_cmd(env, csv_path):
        """Accounts below zero."""
        from . import reports
        with dbmod.connection(env.db) as (conn, tm):
            header, rows = reports.debtors(app_root(conn), conn)
        _emit(header, rows, csv_path)
