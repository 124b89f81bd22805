"""``portmonet notify``: the notifier process."""
import signal
import threading

import click


def register(cli):
    @cli.command("notify")
    @click.option("--until-idle", is_flag=True,
                  help="Stop when nothing is due (tests, a one-off catch-up).")
    @click.option("--channels", default=None,
                  help="Only these channels, e.g. 'mail office' (default notify.channels).")
    @click.pass_obj
    def notify_cmd(env, until_idle, channels):
        """Send e-mail, SMS and office messages from the outbox (docs/notifications.md)."""
        from . import service
        from .settings import Settings
        try:
            settings = Settings(env.settings)
        except ValueError as exc:
            raise click.ClickException(str(exc))
        if channels:
            settings.channels = tuple(channels.replace(",", " ").split())
        env.client_cache = False
        stop = threading.Event()
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: stop.set())
        from .journal import JournalBusy
        try:
            stats = service.run(env.db, settings, until_idle=until_idle, stop=stop)
        except JournalBusy as exc:
            raise click.ClickException(str(exc))
        for channel, counts in stats.items():
            click.echo(f"{channel}: " + ", ".join(f"{v} {k}" for k, v in counts.items()))
