"""``portmonet bill --workers N``: the coordinator.

It plans the run (or keeps the plan of an interrupted one), starts one
``portmonet bill --shard i/N`` process per shard not done yet, shows their
progress from the shards' committed progress, and when every worker has
exited cleanly numbers the invoices and finishes the run.  A worker killed
or failed leaves its shard resumable: the same command started again goes
on from there.
"""
import os
import subprocess
import sys
import time

from .. import db as dbmod
from ..model.root import get_root
from . import run as runmod


def worker_command(config, period, shard, count, args):
    """The command line of one worker (the ``portmonet`` script beside this
    Python, or the module)."""
    script = os.path.join(os.path.dirname(sys.executable), "portmonet")
    head = [script] if os.path.exists(script) else [
        sys.executable, "-c", "import sys; from portmonet.cli import main; sys.exit(main())"]
    return head + ["-c", config, "bill", "--period", period, "--shard", f"{shard}/{count}",
                   "--quiet"] + list(args)


def shards_progress(db, period):
    """[(name, done, contracts billed)] of the run's shards, as committed."""
    with dbmod.connection(db) as (conn, tm):
        state = get_root(conn.root())["billing"].runs[period]
        return [(s.name, s.finished, s.contracts) for s in state.shards]


def run_workers(db, config, period, workers, args, now=None, restart=False, progress=None,
                poll=1.0, echo=print):
    """Bill *period* with one worker process per shard; returns
    (the shards' totals, invoices numbered).  *args*: the options passed on
    to the workers (batch, as-of, invoices, debt control)."""
    count = runmod.start(db, period, now, count=workers, restart=restart)
    if count != workers:
        echo(f"the run of {period} is under way in {count} shards: resumed with {count} workers")
    before = sum(c for _, _, c in shards_progress(db, period))
    procs = {}
    for name, finished, _ in shards_progress(db, period):
        if not finished:
            index = int(name.split("/")[0])
            procs[name] = subprocess.Popen(worker_command(config, period, index, count, args))
    seen = before
    try:
        while any(p.poll() is None for p in procs.values()):
            time.sleep(poll)
            done = sum(c for _, _, c in shards_progress(db, period))
            if progress is not None and done > seen:
                progress(done - seen)
            seen = max(seen, done)
    finally:
        for p in procs.values():        # interrupted: do not leave workers behind
            if p.poll() is None:
                p.terminate()
                p.wait()
    failed = {name: p.returncode for name, p in procs.items() if p.returncode != 0}
    left = [name for name, finished, _ in shards_progress(db, period) if not finished]
    if failed or left:
        raise RuntimeError(
            f"bill {period}: shards {', '.join(sorted(set(failed) | set(left)))} not done "
            f"(exit codes {failed}); run the command again to resume them")
    numbered = runmod.number(db, period)
    runmod.finish(db, period, now)
    with dbmod.connection(db) as (conn, tm):
        state = get_root(conn.root())["billing"].runs[period]
        totals = {name: state.total(name)
                  for name in ("contracts", "fees", "invoices", "blocked", "warned", "autopaid")}
    return totals, numbered
