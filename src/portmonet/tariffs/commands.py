"""``portmonet import tariffs FILE`` and ``portmonet tariffs ...``."""

import click

from .. import clock, db as dbmod
from ..cli import app_root
from ..money import format_amount
from .loader import TariffDefinitionError, install, load_file


def register(cli):
    import_group = cli.commands["import"]

    @import_group.command("tariffs")
    @click.argument("path", type=click.Path(exists=True, dir_okay=False))
    @click.option("--replace", is_flag=True,
                  help="Correct versions whose effective date already holds a different plan.")
    @click.pass_obj
    def import_tariffs(env, path, replace):
        """Load tariffs from a YAML, TOML or JSON file (all or nothing)."""
        try:
            specs = load_file(path)
        except TariffDefinitionError as exc:
            for error in exc.errors:
                click.echo(f"{path}: {error}", err=True)
            raise click.ClickException(f"nothing imported: {len(exc.errors)} error(s)")

        def work(root):
            try:
                return install(root, specs, replace)
            except ValueError as exc:
                raise click.ClickException(f"nothing imported: {exc}")
        report = dbmod.transact(env.db, work, "portmonet import", f"import tariffs from {path}")
        for name, effective, outcome in report:
            click.echo(f"{name} from {effective}: {outcome}")

    @cli.group("tariffs")
    def tariffs_group():
        """Tariff plans."""

    @tariffs_group.command("list")
    @click.pass_obj
    def list_cmd(env):
        today = clock.today()
        with dbmod.connection(env.db) as (conn, tm):
            for tariff in app_root(conn)["tariffs"].values():
                versions = getattr(tariff, "versions", None)
                n = len(versions) if versions is not None else 0
                click.echo(f"{tariff.name}\t{tariff.kind}\t{tariff.title}\t"
                           f"fee {format_amount(tariff.monthly_fee, tariff.currency)}\t"
                           f"{n} version(s)\trate limit {getattr(tariff, 'rate_limit', None) and tariff.rate_limit.text or '-'}"
                           f"\t(as of {today})")

    @tariffs_group.command("assign")
    @click.option("--contract", "number", required=True)
    @click.option("--service", "service_name", required=True, help="e.g. internet-1")
    @click.option("--tariff", "tariff_name", required=True)
    @click.option("--from", "effective", type=click.DateTime(["%Y-%m-%d"]), default=None,
                  help="Day the new tariff takes effect (default today).")
    @click.option("--next-period", is_flag=True, help="From the first day of next month.")
    @click.pass_obj
    def assign_cmd(env, number, service_name, tariff_name, effective, next_period):
        """Move a service to another tariff, now, from a date or from the next period."""
        from .assign import change_tariff

        def work(root):
            contract = root.catalog.contracts.get(number)
            service = contract.get(service_name) if contract is not None else None
            if service is None:
                raise click.ClickException(f"no service {service_name!r} on contract {number!r}")
            tariff = root["tariffs"].get(tariff_name)
            if tariff is None:
                raise click.ClickException(f"no tariff {tariff_name!r}")
            if tariff.kind not in (service.kind, "other"):
                raise click.ClickException(f"{tariff_name} is a {tariff.kind} tariff, "
                                           f"{service_name} a {service.kind} service")
            return change_tariff(service, tariff, effective.date() if effective else None,
                                 next_period)
        when = dbmod.transact(env.db, work, "portmonet tariffs",
                              f"tariff of {number}/{service_name} -> {tariff_name}")
        click.echo(f"{number}/{service_name} on {tariff_name} from {when}")
