"""``portmonet flows`` and ``portmonet traffic ...``."""
import sys

import click

from .. import db as dbmod
from ..cli import app_root, transact_or_refuse
from . import evolve  # noqa: F401  registers the evolve step


def register(cli):

    @cli.command("flows")
    @click.pass_obj
    def flows(env):
        """Collect NetFlow v5/v9 and IPFIX from the registered exporters
        (flows.bind, flows.port in the ini) until SIGTERM."""
        from .collector import run
        env.client_cache = False

        def started(collector):
            click.echo(f"portmonet flows: listening on {collector.config.bind}:{collector.port}, "
                       f"{len(collector.exporters)} exporter(s)")
            sys.stdout.flush()
        stats = run(env.db, env.settings, started)
        click.echo("portmonet flows: stopped (" + ", ".join(
            f"{k}={v}" for k, v in sorted(stats.items())) + ")")

    @cli.group("traffic")
    def traffic_group():
        """Flow exporters, traffic classes, networks and counted traffic."""

    _exporters(traffic_group)
    _classes(traffic_group)
    _networks(traffic_group)
    _reports(traffic_group)


def _exporters(group):
    @group.group("exporter")
    def exporter_group():
        """Flow exporters (routers, BRAS, softflowd): only their packets count."""

    @exporter_group.command("add")
    @click.argument("name")
    @click.argument("address")
    @click.option("--nas", default="", help="The NAS / access point (in /equipment) it belongs to.")
    @click.option("--sampling", type=click.IntRange(1), default=1, show_default=True,
                  help="It samples 1 in N packets: its flows are multiplied by N.")
    @click.pass_obj
    def exporter_add(env, name, address, nas, sampling):
        """Register an exporter by the address its packets come from."""
        from .model import Exporter, TrafficError, add_exporter

        def add(root):
            return add_exporter(root, Exporter(name, address, nas, sampling)).address
        address = transact_or_refuse(env, add, "portmonet traffic", f"add exporter {name}",
                                     refused=TrafficError)
        click.echo(f"exporter {name} ({address}, sampling 1:{sampling}"
                   f"{', NAS ' + nas if nas else ''}) added")

    @exporter_group.command("list")
    @click.pass_obj
    def exporter_list(env):
        with dbmod.connection(env.db) as (conn, tm):
            for e in app_root(conn)["traffic"].exporters.values():
                click.echo(f"{e.name}\t{e.address}\t{e.nas or '-'}\t1:{e.sampling}")

    @exporter_group.command("remove")
    @click.argument("name")
    @click.pass_obj
    def exporter_remove(env, name):
        from .model import TrafficError, remove_exporter
        transact_or_refuse(env, lambda root: remove_exporter(root, name), "portmonet traffic",
                           f"remove exporter {name}", refused=TrafficError)
        click.echo(f"exporter {name} removed")


def _classes(group):
    @group.group("classes")
    def classes_group():
        """Traffic classes: the operator's prefix lists (local, peering, free, ...)."""

    @classes_group.command("load")
    @click.argument("path", type=click.Path(exists=True, dir_okay=False))
    @click.option("--add", "add", is_flag=True, help="Add to the lists instead of replacing them.")
    @click.pass_obj
    def classes_load(env, path, add):
        """Load 'PREFIX CLASS' lines; a file with a bad line changes nothing."""
        from .classes import ClassesError, parse
        with open(path, encoding="utf-8") as f:
            text = f.read()
        try:
            mapping = parse(text)
        except ClassesError as exc:
            for number, why in exc.errors:
                click.echo(f"{path}:{number}: {why}", err=True)
            raise click.ClickException(f"nothing loaded: {len(exc.errors)} bad line(s)")
        n = dbmod.transact(env.db, lambda root: root["traffic"].classes.load(mapping, not add),
                           "portmonet traffic", f"load traffic classes from {path}")
        click.echo(f"{n} prefix(es) loaded in {len(set(mapping.values()))} class(es)")

    @classes_group.command("list")
    @click.pass_obj
    def classes_list(env):
        with dbmod.connection(env.db) as (conn, tm):
            for prefix, name in app_root(conn)["traffic"].classes.prefixes.items():
                click.echo(f"{prefix}\t{name}")


def _networks(group):
    @group.group("network")
    def network_group():
        """Static networks held by an Internet service (a business customer's /29)."""

    from .networks import add_network, remove_network
    for name, change, done, help_text in (
            ("add", add_network, "now held by", "Give the service LOGIN the network PREFIX."),
            ("remove", remove_network, "no longer held by", "Take PREFIX from LOGIN.")):
        _network_command(network_group, name, change, done, help_text)


def _network_command(group, name, change, done, help_text):
    @group.command(name, help=help_text)
    @click.argument("login")
    @click.argument("prefix")
    @click.pass_obj
    def command(env, login, prefix):
        from .networks import NetworkError
        transact_or_refuse(env, lambda root: change(root, login, prefix), "portmonet traffic",
                           f"network {name} {prefix} {login}", refused=(NetworkError, ValueError))
        click.echo(f"{prefix} {done} {login}")


def _reports(group):
    @group.command("report")
    @click.option("--by", "scope", type=click.Choice(["subscriber", "exporter", "unknown"]),
                  default="subscriber", show_default=True,
                  help="exporter: an access point's traffic; unknown: nobody's addresses.")
    @click.option("--period", default=None, help="YYYY-MM or YYYY-MM-DD (default: all).")
    @click.option("--top", type=click.IntRange(1), default=None, help="Only the N largest.")
    @click.option("--csv", "as_csv", is_flag=True, help="CSV with a header instead of a table.")
    @click.pass_obj
    def report_cmd(env, scope, period, top, as_csv):
        """Octets counted from flows: NAME CLASS IN OUT, the largest first."""
        from .report import table
        with dbmod.connection(env.db) as (conn, tm):
            try:
                rows = table(app_root(conn), scope, period, top)
            except ValueError as exc:
                raise click.ClickException(str(exc))
        _print(["name", "class", "octets_in", "octets_out"], rows, as_csv)

    @group.command("discrepancy")
    @click.option("--period", required=True, help="YYYY-MM or YYYY-MM-DD.")
    @click.option("--csv", "as_csv", is_flag=True)
    @click.pass_obj
    def discrepancy_cmd(env, period, as_csv):
        """RADIUS accounting against flows per login and per NAS; exit
        status 1 when a row is over traffic.discrepancy_percent % and
        traffic.discrepancy_octets."""
        from .report import Thresholds, discrepancy
        thresholds = Thresholds(env.settings)
        with dbmod.connection(env.db) as (conn, tm):
            try:
                rows = discrepancy(app_root(conn), period, thresholds)
            except ValueError as exc:
                raise click.ClickException(str(exc))
        _print(["what", "name", "radius", "flows", "over"],
               [(w, n, a, b, "OVER" if over else "") for w, n, a, b, over in rows], as_csv)
        sys.exit(1 if any(row[4] for row in rows) else 0)

    @group.command("errors")
    @click.pass_obj
    def errors_cmd(env):
        """Refused packets and flows: SOURCE KIND COUNT."""
        with dbmod.connection(env.db) as (conn, tm):
            for (source, kind), n in app_root(conn)["traffic"].errors.items():
                click.echo(f"{source}\t{kind}\t{n}")


def _print(header, rows, as_csv):
    if as_csv:
        import csv
        writer = csv.writer(sys.stdout)
        writer.writerow(header)
        writer.writerows(rows)
        return
    for row in rows:
        click.echo("\t".join(str(v) for v in row))
