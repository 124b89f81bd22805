"""A monthly billing run through ZEO: contracts/s and peak memory of a real
``portmonet bill`` process; then invoice PDFs rendered on demand (invoices/s).

    # a world built here (two services per contract, every fourth broke)
    .venv/bin/python bench/billing_run.py --contracts 20000
    # the shared seeded database (copied, never opened in place)
    .venv/bin/python bench/billing_run.py --template-db /work/seed-1m/Data.fs \\
        --period 2026-12 --as-of 2027-01-01

``--profile FILE`` runs the billing process under cProfile (slower; for
finding where the time goes, not for the figures).
"""
import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from rating_world import BIN, build, peak_rss_mib  # noqa: E402
from zeo import BenchZeo  # noqa: E402

INI_URI = ("zodbconn.uri = zeo://127.0.0.1:{port}?cache_size=512MB"
           "&connection_cache_size=100000&wait_timeout=120\n")


def start_zeo(folder, template):
    """A ZEO server on a fresh storage, or on a copy of *template*."""
    if template:
        t = time.monotonic()
        os.makedirs(folder, exist_ok=True)
        shutil.copyfile(template, os.path.join(folder, "Data.fs"))
        if os.path.exists(template + ".index"):
            shutil.copyfile(template + ".index", os.path.join(folder, "Data.fs.index"))
        print(f"copied {template} ({os.path.getsize(template) / 2**30:.2f} GiB) "
              f"in {time.monotonic() - t:.0f} s")
    zeo = BenchZeo(folder)
    with open(zeo.ini) as f:
        lines = [line if not line.startswith("zodbconn.uri") else INI_URI.format(port=zeo.port)
                 for line in f]
    with open(zeo.ini, "w") as f:
        f.writelines(lines)
    t = time.monotonic()
    zeo.start()
    print(f"ZEO up in {time.monotonic() - t:.0f} s")
    return zeo


class LoadWatch:
    """The 1-minute load average sampled during the run (other work shares the machine)."""

    def __init__(self):
        self.samples = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self):
        while not self._stop.wait(5):
            self.samples.append(os.getloadavg()[0])

    def stop(self):
        self._stop.set()
        self._thread.join()
        s = self.samples or [os.getloadavg()[0]]
        return min(s), sum(s) / len(s), max(s)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--contracts", type=int, default=10000, help="world to build (without --template-db)")
    ap.add_argument("--template-db", default=None, help="copy this Data.fs and bill it")
    ap.add_argument("--dir", default=None, help="where the copy goes (default: a temporary folder)")
    ap.add_argument("--period", default="2024-03")
    ap.add_argument("--as-of", default=None, help="default: the day after the period")
    ap.add_argument("--batch", type=int, default=2000)
    ap.add_argument("--workers", type=int, default=1, help="portmonet bill --workers N")
    ap.add_argument("--render", type=int, default=200, help="invoice PDFs to render")
    ap.add_argument("--profile", default=None, help="cProfile output of the billing process")
    ap.add_argument("--sample", default=None,
                    help="py-spy flame graph (raw/collapsed stacks) of the billing process")
    ap.add_argument("--keep", action="store_true", help="keep the database folder")
    ap.add_argument("--evolve", action="store_true",
                    help="run `portmonet evolve` on the copy first, timed (the 1M seed has other "
                         "features' pending steps that walk every subscriber: minutes)")
    ap.add_argument("--check", action="store_true",
                    help="run `portmonet check` after the run also on a --template-db copy "
                         "(the whole books of 1M: minutes)")
    args = ap.parse_args()
    if args.as_of is None:
        import datetime
        y, m = map(int, args.period[:7].split("-"))
        args.as_of = str(datetime.date(y + (m == 12), m % 12 + 1, 1))
    folder = args.dir or tempfile.mkdtemp(prefix="portmonet-billing-bench-")
    zeo = start_zeo(folder, args.template_db)
    try:
        if not args.template_db:
            db = zeo_db(zeo)
            t = time.monotonic()
            # every fourth contract has no money: it is blocked and notified
            build(db, args.contracts, broke_every=4)
            db.close()
            print(f"setup: {args.contracts} contracts in {time.monotonic() - t:.0f} s")
        if args.template_db and args.evolve:
            t = time.monotonic()
            done = subprocess.run([os.path.join(BIN, "portmonet"), "-c", zeo.ini, "evolve"],
                                  capture_output=True, text=True)
            print(f"evolve: {time.monotonic() - t:.1f} s (exit {done.returncode}): "
                  + "; ".join(done.stdout.strip().splitlines()))
        cmd = [os.path.join(BIN, "portmonet"), "-c", zeo.ini, "bill", "--period", args.period,
               "--as-of", args.as_of, "--batch", str(args.batch), "--workers", str(args.workers)]
        if args.profile:
            cmd = [sys.executable, "-m", "cProfile", "-o", args.profile] + cmd
        elif args.sample:
            cmd = [os.path.join(BIN, "py-spy"), "record", "-f", "raw", "-r", "250", "--subprocesses", "--gil",
                   "-o", args.sample, "--"] + cmd
        watch = LoadWatch()
        zeo_cpu = process_cpu(zeo.proc.pid)
        t = time.monotonic()
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                                env=dict(os.environ, PYTHONWARNINGS="ignore"))
        out = proc.stdout.read()
        _, status, usage = os.wait4(proc.pid, 0)
        elapsed = time.monotonic() - t
        lo, avg, hi = watch.stop()
        zeo_cpu = process_cpu(zeo.proc.pid) - zeo_cpu
        for line in out.strip().splitlines():
            if line.startswith("billed"):
                print(line)
        final = [line for line in out.splitlines() if line.startswith(f"billed {args.period}:")]
        contracts = int(final[-1].split(" contracts")[0].rsplit(" ", 1)[-1]) if final else 0
        # the command's rusage includes its workers' (waited-for children):
        # CPU is the sum, peak RSS the largest single process
        cpu = usage.ru_utime + usage.ru_stime
        print(f"billing run: {contracts} contracts in {elapsed:.1f} s: "
              f"{contracts / elapsed:.0f} contracts/s; CPU {cpu:.1f} s in the billing "
              f"processes ({contracts / cpu if cpu else 0:.0f} contracts per CPU-second), "
              f"{zeo_cpu:.1f} s in the ZEO server ({1e3 * (cpu + zeo_cpu) / max(contracts, 1):.2f} ms "
              f"CPU per contract in all); peak RSS of one process {peak_rss_mib(usage):.0f} MiB "
              f"(exit {os.waitstatus_to_exitcode(status)})")
        print(f"load average (1 min) during the run: min {lo:.1f} mean {avg:.1f} max {hi:.1f} "
              f"on {os.cpu_count()} CPUs")
        out_dir = tempfile.mkdtemp(prefix="portmonet-invoices-")
        t = time.monotonic()
        proc = subprocess.run([os.path.join(BIN, "portmonet"), "-c", zeo.ini, "invoice", "render",
                               "--period", args.period, "--limit", str(args.render), "--out", out_dir],
                              capture_output=True, text=True)
        print("render:", proc.stdout.strip() or proc.stderr.strip()[-300:])
        shutil.rmtree(out_dir, ignore_errors=True)
        if args.check or not args.template_db:   # the whole books of 1M take minutes
            t = time.monotonic()
            # the check reads the database as every feature's evolve steps
            # leave it (the shared seed predates some): a no-op when done
            subprocess.run([os.path.join(BIN, "portmonet"), "-c", zeo.ini, "evolve"],
                           capture_output=True, text=True, check=True)
            print(f"evolve before the check: {time.monotonic() - t:.0f} s")
            t = time.monotonic()
            check = subprocess.run([os.path.join(BIN, "portmonet"), "-c", zeo.ini, "check"],
                                   capture_output=True, text=True)
            print(f"check ({time.monotonic() - t:.0f} s, exit {check.returncode}):",
                  (check.stdout.strip().splitlines() or [check.stderr.strip()[-2000:]])[-1])
    finally:
        zeo.stop()
        if not args.keep:
            shutil.rmtree(folder, ignore_errors=True)


def process_cpu(pid):
    """CPU seconds (user + system) a running process has used so far."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def zeo_db(zeo):
    import ZEO
    return ZEO.DB(("127.0.0.1", zeo.port), cache_size=512 * 2**20, wait_timeout=60)


if __name__ == "__main__":
    main()
