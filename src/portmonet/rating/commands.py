"""``portmonet rate``, ``portmonet rerate`` and ``portmonet rating ...``."""
import sys

import click

from .. import clock, db as dbmod
from ..cli import app_root
from ..money import format_amount
from . import checks  # noqa: F401  (registers the books check)
from ..usage import LANES, shard_lanes
from . import rater


def register(cli):

    @cli.command("rate")
    @click.option("--batch", type=click.IntRange(1, 100_000), default=5000, show_default=True,
                  help="Usage records per transaction (a commit costs a ZEO round trip "
                       "and a disk flush, and rewrites each lane's last buckets: larger "
                       "batches amortise it; 5000 rated 14 %% more per CPU-second than "
                       "2000, 10000 no more than 5000).")
    @click.option("--once", is_flag=True, help="Stop when the queue is empty.")
    @click.option("--retry-errors", is_flag=True,
                  help="Rate the parked records again (after their cause is fixed) and stop.")
    @click.option("--max-seconds", type=float, default=None, help="Stop after this long.")
    @click.option("--shard", default="0/1", show_default=True, metavar="I/N",
                  help="Take only the queue lanes of shard I of N (lanes l with l %% N == I): "
                       "N raters with --shard 0/N .. N-1/N share the queue without conflicts.")
    @click.option("--workers", type=click.IntRange(1, LANES), default=1, show_default=True,
                  help="Start this many rater processes, one per shard (--shard i/WORKERS), "
                       "and wait for them.")
    @click.option("--verbose", "-v", is_flag=True, help="Print every batch.")
    @click.pass_obj
    def rate_cmd(env, batch, once, retry_errors, max_seconds, shard, workers, verbose):
        """Rate usage records from the queue and post their charges (a worker)."""
        if retry_errors:
            _retry(env, batch)
            return
        if workers > 1:
            if shard != "0/1":
                raise click.UsageError("give --shard or --workers, not both")
            sys.exit(_workers(env, workers, batch, once, max_seconds, verbose))
        shard = _parse_shard(shard)
        env.client_cache = False          # its objects stay in its connection cache
        rater.tune_worker_storage(env.db)   # before any connection is opened
        echo = (lambda s: click.echo(f"batch: {s}", err=True)) if verbose else None
        with dbmod.connection(env.db) as (conn, tm):
            root = app_root(conn)
            if not root.usage.lanes or not root["rating"].lanes:
                raise click.ClickException("the usage queue has no lanes: run 'portmonet evolve'")
        totals = rater.run(env.db, batch=batch, once=once, max_seconds=max_seconds, echo=echo,
                           shard=shard)
        click.echo(f"rated {totals['rated']}, parked {totals['parked']}, "
                   f"skipped {totals['skipped']} in {totals['batches']} batches, "
                   f"{totals['conflicts']} conflicts"
                   + (f" (shard {shard[0]}/{shard[1]})" if shard[1] > 1 else ""))

    def _parse_shard(text):
        try:
            i, n = (int(x) for x in text.split("/"))
            shard_lanes(i, n)
        except ValueError:
            raise click.BadParameter(f"{text!r}: I/N with 0 <= I < N <= {LANES} expected",
                                     param_hint="--shard") from None
        return i, n

    def _workers(env, n, batch, once, max_seconds, verbose):
        """Run n shard processes of this same command; their exit status."""
        import subprocess
        base = [sys.executable, "-c", "import sys; from portmonet.cli import main; sys.exit(main())",
                "-c", env.settings["__file__"], "rate", "--batch", str(batch)]
        base += ["--once"] if once else []
        base += ["--max-seconds", str(max_seconds)] if max_seconds else []
        base += ["-v"] if verbose else []
        procs = [subprocess.Popen(base + ["--shard", f"{i}/{n}"]) for i in range(n)]
        try:
            codes = [p.wait() for p in procs]
        except KeyboardInterrupt:
            for p in procs:
                p.terminate()
            codes = [p.wait() for p in procs]
        return max(codes, key=abs)

    def _retry(env, batch):
        rated = parked = 0
        after = None
        while True:
            def one(root):
                return rater.retry_errors(root, batch, after)
            stats, last = dbmod.transact(env.db, one, rater.USER, "rate parked records again")
            rated += stats["rated"]
            parked += stats["parked"]
            if last is None:
                break
            after = last
        click.echo(f"rated {rated} parked records; {parked} still cannot be rated")

    @cli.command("rerate")
    @click.option("--contract", "number", default=None)
    @click.option("--tariff", default=None)
    @click.option("--from", "start", type=click.DateTime(["%Y-%m-%d"]), required=True)
    @click.option("--to", "end", type=click.DateTime(["%Y-%m-%d"]), required=True,
                  help="First day NOT re-rated.")
    @click.option("--batch", type=click.IntRange(1), default=1000, show_default=True)
    @click.pass_obj
    def rerate_cmd(env, number, tariff, start, end, batch):
        """Rate the usage of [FROM, TO) of a contract or a tariff again;
        reverse and repost what changed, and show the difference."""
        if not number and not tariff:
            raise click.UsageError("give --contract and/or --tariff")
        totals = {"records": 0, "changed": 0, "old": 0, "new": 0}
        after = None
        while True:
            def work(root):
                if number and root.catalog.contracts.get(number) is None:
                    raise click.ClickException(f"no contract {number!r}")
                return rater.rerate(root, number, clock.day_start_us(start.date()), clock.day_start_us(end.date()),
                                    tariff=tariff, after=after, limit=batch)
            out = dbmod.transact(env.db, work, rater.USER,
                                 f"re-rate {number or tariff} {start.date()}..{end.date()}")
            for source_id, reason in out["failed"]:
                click.echo(f"not re-rated {source_id}: {reason}", err=True)
            for name in totals:
                totals[name] += out[name]
            if out["last"] is None or out["records"] < batch:
                break
            after = out["last"]
        click.echo(f"{totals['records']} records, {totals['changed']} changed: "
                   f"{format_amount(totals['old'])} -> {format_amount(totals['new'])} "
                   f"(difference {format_amount(totals['new'] - totals['old'])})")

    @cli.group("rating")
    def rating_group():
        """Rated records and the rating error queue."""

    @rating_group.command("errors")
    @click.option("--limit", type=int, default=100, show_default=True)
    @click.pass_obj
    def errors_cmd(env, limit):
        """List records that could not be rated, with the reason."""
        with dbmod.connection(env.db) as (conn, tm):
            state = app_root(conn)["rating"]
            click.echo(f"{state.error_count()} parked record(s)")
            for i, (_, parked) in enumerate(state.parked_items()):
                if i >= limit:
                    break
                click.echo(f"{parked.record.source_id}\t{parked.record.kind}\t{parked.record.subject}\t"
                           f"attempts={parked.attempts}\t{parked.reason}")

    @rating_group.command("show")
    @click.argument("source_id")
    @click.pass_obj
    def show_cmd(env, source_id):
        """Explain how a usage record was priced."""
        with dbmod.connection(env.db) as (conn, tm):
            state = app_root(conn)["rating"]
            rated = state.find(source_id)
            if rated is None:
                parked = state.find_parked(source_id)
                if parked is None:
                    click.echo(f"{source_id}: not rated", err=True)
                    sys.exit(1)
                click.echo(f"{source_id}: parked: {parked.reason}")
                return
            click.echo(rated.explain())
