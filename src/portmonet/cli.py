"""The ``portmonet`` command: ``portmonet [-c INI] COMMAND ...``.

Core commands live here; a feature package adds its own in a
``commands.py`` that defines ``register(cli)``.
"""
import importlib
import logging
import sys

import click

from . import db as dbmod
from .features import bootstrap, feature_names
from .txn import describe

log = logging.getLogger("portmonet")


class Env:
    """What a command needs: the settings and, lazily, the database."""

    def __init__(self, config):
        self.config = config
        self._settings = None
        self._db = None

    @property
    def settings(self):
        if self._settings is None:
            self._settings = dbmod.load_settings(self.config)
            dbmod.configure(self._settings)
            # The features' event subscribers, as in the web process.
            self.registry = bootstrap(self._settings)
        return self._settings

    client_cache = True    # a worker sets False before it opens the database

    @property
    def db(self):
        if self._db is None:
            self._db = dbmod.open_database(self.settings, client_cache=self.client_cache)
        return self._db

    def close(self):
        if self._db is not None:
            self._db.close()


pass_env = click.make_pass_decorator(Env)


@click.group()
@click.option("-c", "--config", envvar="PORTMONET_CONFIG", default="development.ini",
              show_default=True, help="Pyramid-style .ini file ($PORTMONET_CONFIG).")
@click.pass_context
def cli(ctx, config):
    """Portmonet: billing and settlement for ISPs and telecom operators."""
    ctx.obj = Env(config)
    ctx.call_on_close(ctx.obj.close)


def transact_or_refuse(env, func, user, note, refused=ValueError):
    """``func(root)`` in one transaction (retried on conflicts); a refusal
    by the model (*refused*: an exception class or a tuple) aborts it and
    becomes the command's error message, so nothing is half-written."""
    try:
        return dbmod.transact(env.db, func, user, note)
    except refused as exc:
        raise click.ClickException(str(exc))


def app_root(conn):
    from .model.root import get_root
    root = get_root(conn.root())
    if root is None:
        raise click.ClickException("the database is not initialised: run 'portmonet init'")
    return root


class LineProgress:
    """Progress for a log file or CI: a line every 5% (or every 30 s)."""

    def __init__(self, total, label):
        import time
        self.clock = time.monotonic
        self.total, self.label, self.done = max(total, 1), label, 0
        self.started = self.last = self.clock()
        self.next_pct = 5

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def update(self, n):
        self.done += n
        pct = 100 * self.done / self.total
        now = self.clock()
        if pct >= self.next_pct or now - self.last >= 30 or self.done >= self.total:
            elapsed = now - self.started
            eta = elapsed * (self.total - self.done) / self.done if self.done else 0
            click.echo(f"{self.label}: {self.done}/{self.total} ({pct:.0f}%), "
                       f"{elapsed:.0f} s elapsed, ~{eta:.0f} s left", err=True)
            self.last = now
            while self.next_pct <= pct:
                self.next_pct += 5


def progress_bar(total, label):
    """A progress bar on a terminal; progress lines in a log or CI."""
    if sys.stderr.isatty():
        return click.progressbar(length=total, label=label, show_pos=True, show_eta=True,
                                 file=sys.stderr)
    return LineProgress(total, label)


@cli.command()
@click.option("--demo", "demo", type=int, default=0,
              help="Seed this many demo subscribers if the database has none.")
@click.option("--wait", "wait", is_flag=True,
              help="Install nothing: wait until another process has installed and "
                   "evolved the database (the other processes of `make run`).")
@click.option("--timeout", type=click.FloatRange(0), default=600, show_default=True,
              help="With --wait: seconds to wait before giving up.")
@click.pass_obj
def init(env, demo, wait, timeout):
    """Create the database if new, run pending evolve steps, seed demo data."""
    from . import evolve
    from .model.root import install
    if wait:
        return wait_until_ready(env, timeout)
    # One process installs (make run: the web's); should another install
    # at the same time, the retry finds the winner's root.
    with dbmod.connection(env.db) as (conn, tm):
        for attempt in tm.attempts(5):
            with attempt as txn:
                describe(txn, "portmonet init", "install the application root")
                root = install(conn.root())
        done = evolve.run(root, tm=tm)
        for name in done:
            click.echo(f"evolved: {name}")
        empty = len(root["subscribers"]) == 0
    if demo and empty:
        env_seed(env, demo, 1, 5000)
        dbmod.transact(env.db, demo_office, "portmonet init", "demo office password")
        click.echo(f"demo office: sign in at /office as {DEMO_OFFICE[0]} "
                   f"with the password {DEMO_OFFICE[1]!r}")
    click.echo("database ready")


# The demo's first subscriber gets an office password everyone knows (the
# README names it), so a newcomer can see the office; real subscribers'
# passwords are set by staff or by the subscriber.
DEMO_OFFICE = ("u0000001", "demo")


def demo_office(root):
    from .crypto import hash_password
    service = root.catalog.logins.get(DEMO_OFFICE[0])
    if service is not None:
        service.__parent__.__parent__.office_password_hash = hash_password(DEMO_OFFICE[1])


def wait_until_ready(env, timeout):
    """Poll until the database is installed with no evolve step pending."""
    import time
    from . import evolve
    from .model.root import get_root
    deadline = time.monotonic() + timeout
    told = False
    with dbmod.connection(env.db) as (conn, tm):
        while True:
            tm.begin()              # a new transaction sees the other's commits
            root = get_root(conn.root())
            waiting = evolve.pending(root) if root is not None else ["install"]
            if not waiting:
                click.echo("database ready")
                return
            if time.monotonic() > deadline:
                raise click.ClickException(
                    f"the database is still not ready after {timeout:.0f} s "
                    f"(waiting for: {', '.join(waiting[:3])}): is `portmonet init` running?")
            if not told:
                click.echo("waiting for the database to be installed (portmonet init)")
                told = True
            time.sleep(0.5)


@cli.command("evolve")
@click.option("--list", "list_only", is_flag=True, help="Only list steps and their state.")
@click.pass_obj
def evolve_cmd(env, list_only):
    """Run the pending schema evolve steps."""
    from . import evolve
    with dbmod.connection(env.db) as (conn, tm):
        root = app_root(conn)
        if list_only:
            for name, _ in evolve.steps():
                click.echo(f"{'done   ' if name in root.evolved else 'pending'} {name}")
            return
        done = evolve.run(root, tm=tm)
        click.echo("\n".join(f"evolved: {n}" for n in done) or "nothing to evolve")


@cli.command()
@click.pass_obj
def check(env):
    """Prove the books; exit status 1 if anything is wrong."""
    from . import evolve
    from .ops.check import check_books
    with dbmod.connection(env.db) as (conn, tm):
        root = app_root(conn)
        waiting = evolve.pending(root)
        if waiting:
            # the checks read the database as the steps leave it
            raise click.ClickException(
                f"{len(waiting)} evolve step(s) pending ({', '.join(waiting[:3])}"
                f"{', ...' if len(waiting) > 3 else ''}): run 'portmonet evolve' first")
        total = len(root.catalog.accounts)
        with progress_bar(total, "checking accounts") as bar:
            report = check_books(root, conn, progress=bar.update)
    for problem in report.problems:
        click.echo(f"PROBLEM: {problem}")
    counts = ", ".join(f"{k}={v}" for k, v in sorted(report.counts.items()))
    click.echo(f"{'OK' if report.ok else 'FAILED'}: {counts}")
    sys.exit(0 if report.ok else 1)


def env_seed(env, count, seed_value, batch):
    from .ops.seed import seed
    with dbmod.connection(env.db) as (conn, tm):
        app_root(conn)
        with progress_bar(count, "seeding subscribers") as bar:
            start, made = seed(conn, tm, count, seed=seed_value, batch=batch, progress=bar.update)
    click.echo(f"seeded {made} subscribers, ids {start}..{start + made - 1}")


@cli.command("seed")
@click.option("--subscribers", "count", type=click.IntRange(1), required=True)
@click.option("--seed", "seed_value", type=int, default=1, show_default=True,
              help="Random seed: the same seed makes the same data.")
@click.option("--batch", type=click.IntRange(1), default=5000, show_default=True,
              help="Subscribers per transaction.")
@click.pass_obj
def seed_cmd(env, count, seed_value, batch):
    """Make realistic demo subscribers."""
    env_seed(env, count, seed_value, batch)


@cli.group("import")
def import_group():
    """Import data from files."""


@import_group.command("subscribers")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--encoding", default="utf-8", show_default=True)
@click.pass_obj
def import_subscribers_cmd(env, path, encoding):
    """Import a subscriber base from CSV (see docs/import.md for the layout)."""
    from .ops.csvio import ImportRejected, import_subscribers
    with open(path, "rb") as f:
        data = f.read()
    with dbmod.connection(env.db) as (conn, tm):
        app_root(conn)
        try:
            n = import_subscribers(conn, tm, data, encoding=encoding)
        except ImportRejected as exc:
            for line, reason in exc.errors:
                click.echo(f"{path}:{line}: {reason}", err=True)
            raise click.ClickException(f"nothing imported: {len(exc.errors)} bad row(s)")
    click.echo(f"imported {n} subscribers")


@cli.group("export")
def export_group():
    """Export data to files."""


@export_group.command("subscribers")
@click.argument("path", type=click.Path(dir_okay=False, writable=True))
@click.option("--with-passwords", is_flag=True, help="Write Internet passwords in clear.")
@click.pass_obj
def export_subscribers_cmd(env, path, with_passwords):
    """Export subscribers in the import layout."""
    from .ops.csvio import export_subscribers
    with dbmod.connection(env.db) as (conn, tm):
        root = app_root(conn)
        with open(path, "w", encoding="utf-8", newline="") as out:
            n = export_subscribers(root, out, with_passwords)
    click.echo(f"exported {n} contracts to {path}")


@cli.group("staff")
def staff_group():
    """Employees and their roles."""


@staff_group.command("add")
@click.argument("login")
@click.option("--role", "roles", multiple=True, required=True)
@click.option("--name", default="")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
@click.pass_obj
def staff_add(env, login, roles, name, password):
    """Create an employee (the password is asked for when not given)."""
    from .model.staff import StaffUser

    def add(root):
        if login in root["staff"]:
            raise click.ClickException(f"staff user {login!r} exists")
        root["staff"].add_user(StaffUser(login, roles, password, name))
    transact_or_refuse(env, add, "portmonet staff", f"add staff user {login}")
    click.echo(f"staff user {login} added with roles {', '.join(sorted(roles))}")


@staff_group.command("list")
@click.pass_obj
def staff_list(env):
    with dbmod.connection(env.db) as (conn, tm):
        for user in app_root(conn)["staff"].values():
            click.echo(f"{user.login}\t{','.join(user.roles)}\t{'active' if user.active else 'disabled'}")


@cli.command()
def keygen():
    """Print a new encryption key for portmonet.secret_keys."""
    from .crypto import new_key
    click.echo(new_key())


def _settings_for_commands(argv):
    """The settings of the ini the command line names (``-c``,
    ``$PORTMONET_CONFIG``, ``development.ini``), read before click parses
    it so that the feature list decides which commands exist; None when
    there is no such file (``--help`` in an empty folder)."""
    import os
    argv = list(sys.argv[1:] if argv is None else argv)
    path = os.environ.get("PORTMONET_CONFIG", "development.ini")
    for i, arg in enumerate(argv):
        if arg in ("-c", "--config") and i + 1 < len(argv):
            path = argv[i + 1]
        elif arg.startswith("--config="):
            path = arg.split("=", 1)[1]
    if not os.path.exists(path):
        return None
    return dbmod.load_settings(path)


_registered = False


def register_features(settings=None):
    """Add the commands of each configured feature (its
    ``commands.register(cli)``; ``portmonet.features``).

    Done when the command runs, not when this module is imported, so a
    feature's commands module may itself import from here."""
    global _registered
    if _registered:
        return cli
    _registered = True
    for name in feature_names(settings):
        try:
            module = importlib.import_module(f"{name}.commands")
        except ModuleNotFoundError as exc:
            if exc.name != f"{name}.commands":
                raise
            continue
        module.register(cli)
    return cli


def main(argv=None):
    return register_features(_settings_for_commands(argv)).main(args=argv, prog_name="portmonet")
