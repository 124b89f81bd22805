"""``portmonet radius`` and ``portmonet nas ...``."""
import sys

import click

from .. import clock
from .. import db as dbmod
from ..cli import app_root, transact_or_refuse
from . import check, evolve  # noqa: F401  register the books check and the evolve step


def _when(us):
    return clock.stamp(us) if us else "-"


def register(cli):

    @cli.group("radius", invoke_without_command=True)
    @click.pass_context
    def radius_group(ctx):
        """Serve RADIUS authorization and accounting and send CoA/Disconnect
        (without a subcommand); look at sessions and rejects."""
        if ctx.invoked_subcommand is None:
            from .server import run
            env = ctx.obj
            settings = env.settings

            def started(server):
                acct = f"{server.config.bind}:{server.acct_port}" if server.acct_port else "off"
                click.echo(f"portmonet radius: auth on {server.config.bind}:{server.auth_port}, "
                           f"accounting on {acct}")
                sys.stdout.flush()
            stats = run(env.db, settings, started)
            click.echo("portmonet radius: stopped (" + ", ".join(
                f"{k}={v}" for k, v in sorted(stats.items())) + ")")

    @cli.group("nas")
    def nas_group():
        """Network access servers (RADIUS clients)."""

    @nas_group.command("add")
    @click.argument("name")
    @click.argument("address")
    @click.argument("secret")
    @click.option("--vendor", default="generic", show_default=True,
                  type=click.Choice(["generic", "mikrotik", "cisco"]))
    @click.option("--coa-port", type=click.IntRange(1, 65535), default=None,
                  help="Where the NAS listens for CoA/Disconnect (default radius.coa_port).")
    @click.option("--access-point", default="", help="Where it stands (site, POP).")
    @click.pass_obj
    def nas_add(env, name, address, secret, vendor, coa_port, access_point):
        """Register a NAS; its secret is kept encrypted."""
        from .nas import Nas, NasError, add_nas

        def add(root):
            add_nas(root, Nas(name, address, secret, vendor, coa_port=coa_port,
                              access_point=access_point))
        transact_or_refuse(env, add, "portmonet nas", f"add NAS {name}",
                           refused=(NasError, ValueError))
        click.echo(f"NAS {name} ({address}, {vendor}) added")

    @nas_group.command("list")
    @click.pass_obj
    def nas_list(env):
        """NASes: name, address, vendor, CoA port, online sessions."""
        from .nas import nases
        with dbmod.connection(env.db) as (conn, tm):
            for nas in nases(app_root(conn)):
                click.echo(f"{nas.name}\t{nas.address}\t{nas.vendor}\t"
                           f"{nas.coa_port or 'default'}\t{len(nas.online)} online")

    @nas_group.command("remove")
    @click.argument("name")
    @click.pass_obj
    def nas_remove(env, name):
        """Remove a NAS; its open sessions are closed ("NAS-Removed") and
        stay in the subscribers' history."""
        from .accounting import close
        from .interfaces import INas
        from ..ledger.account import now_us

        def remove(root):
            nas = root["equipment"].get(name)
            if nas is None or not INas.providedBy(nas):
                raise click.ClickException(f"no NAS named {name!r}")
            for session in list(nas.online.values()):
                close(root, nas, session, now_us(), "NAS-Removed")
            root["equipment"].remove(name)
        dbmod.transact(env.db, remove, "portmonet nas", f"remove NAS {name}")
        click.echo(f"NAS {name} removed")

    _register_tools(radius_group)
    _register_pools(radius_group)


def _register_pools(group):
    """``portmonet radius pool add|list|remove``."""

    @group.group("pool")
    def pool_group():
        """IP pools: addresses for logins without a static one."""

    @pool_group.command("add")
    @click.argument("name")
    @click.argument("prefix")
    @click.option("--nas", default="", help="Only for this NAS.")
    @click.option("--tariff", default="", help="Only for this tariff.")
    @click.pass_obj
    def pool_add(env, name, prefix, nas, tariff):
        """Add a pool: PREFIX is a.b.c.d/n (its hosts) or a.b.c.d-e.f.g.h."""
        from .pools import PoolError, add_pool

        def add(root):
            return add_pool(root, name, prefix, nas, tariff).size
        size = transact_or_refuse(env, add, "portmonet radius pool", f"add pool {name}",
                                  refused=PoolError)
        click.echo(f"pool {name} ({prefix}, {size} addresses) added")

    @pool_group.command("list")
    @click.pass_obj
    def pool_list(env):
        """Pools: name, prefix, NAS, tariff, leased / size."""
        from .pools import pools
        with dbmod.connection(env.db) as (conn, tm):
            for pool in pools(app_root(conn)).values():
                click.echo(f"{pool.__name__}\t{pool.prefix}\t{pool.nas or '*'}\t"
                           f"{pool.tariff or '*'}\t{pool.used}/{pool.size}")

    @pool_group.command("remove")
    @click.argument("name")
    @click.pass_obj
    def pool_remove(env, name):
        """Remove a pool that holds no leases."""
        from .pools import pools

        def remove(root):
            folder = pools(root)
            pool = folder.get(name)
            if pool is None:
                raise click.ClickException(f"no pool named {name!r}")
            if pool.used:
                raise click.ClickException(f"pool {name} has {pool.used} address(es) leased")
            folder.remove(name)
        dbmod.transact(env.db, remove, "portmonet radius pool", f"remove pool {name}")
        click.echo(f"pool {name} removed")


def _register_tools(group):
    """``portmonet radius sessions|rejects|kick``."""

    @group.command("sessions")
    @click.argument("login")
    @click.option("--limit", default=20, show_default=True)
    @click.pass_obj
    def sessions_cmd(env, login, limit):
        """A login's sessions, newest first, with traffic."""
        with dbmod.connection(env.db) as (conn, tm):
            for s in app_root(conn).radius.sessions_of(login)[:limit]:
                click.echo(f"{s.nas}\t{s.session_id}\t{_when(s.start_us)}\t{_when(s.stop_us)}\t"
                           f"{s.framed_ip or '-'}\tin={s.octets_in}\tout={s.octets_out}\t"
                           f"{'online' if s.online else s.terminate_cause}")

    @group.command("rejects")
    @click.argument("login")
    @click.option("--limit", default=20, show_default=True)
    @click.pass_obj
    def rejects_cmd(env, login, limit):
        """Why a login was refused access, newest first."""
        with dbmod.connection(env.db) as (conn, tm):
            for us, reason, nas, detail in app_root(conn).radius.rejects_of(login, limit):
                click.echo(f"{_when(us)}\t{nas}\t{reason}\t{detail}")

    @group.command("purge")
    @click.option("--days", type=click.IntRange(1, None), default=None,
                  help="Keep this many days (default radius.session_retention_days, 180).")
    @click.option("--batch", type=click.IntRange(1, 100_000), default=1000, show_default=True,
                  help="Sessions per transaction.")
    @click.pass_obj
    def purge_cmd(env, days, batch):
        """Purge closed sessions older than the retention; their traffic is
        kept as daily totals per login."""
        from .retention import purge_old
        days = days or int(env.settings.get("radius.session_retention_days", 180))
        total = purge_old(env.db, days, batch)
        click.echo(f"purged {total} session(s) closed more than {days} day(s) ago")

    @group.command("kick")
    @click.argument("login")
    @click.option("--reason", default="kicked by staff", show_default=True)
    @click.option("--coa", "action", flag_value="coa", help="Send a CoA with the current "
                  "speed instead of disconnecting.")
    @click.option("--disconnect", "action", flag_value="disconnect", default=True)
    @click.pass_obj
    def kick_cmd(env, login, reason, action):
        """Queue a Disconnect (or CoA) for a login's online sessions."""
        from .coa import request

        def queue(root):
            return request(root, action, login, reason, "portmonet kick").key
        key = dbmod.transact(env.db, queue, "portmonet kick", f"{action} {login}: {reason}")
        click.echo(f"queued {action} for {login} ({key})")
