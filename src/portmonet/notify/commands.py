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

    @cli.command("notify-sink")
    @click.option("--maildir", default=None,
                  help="Where the letters are kept (default notify.sink_maildir, else "
                       "zodb/var/mail beside the ini); read them with any maildir reader.")
    @click.pass_obj
    def sink_cmd(env, maildir):
        """A local SMTP server on notify.mail.host:port that keeps every letter
        (the demo's mail server: the Procfile's ``mailsink``)."""
        from . import sink
        from .settings import Settings
        settings = Settings(env.settings)
        maildir = maildir or settings.sink_maildir
        controller, held = sink.start(settings.mail_host, settings.mail_port, maildir=maildir,
                                      keep=False)
        click.echo(f"SMTP sink on {settings.mail_host}:{settings.mail_port}, letters in {maildir}")
        stop = threading.Event()
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: stop.set())
        try:
            while not stop.wait(1):
                pass
        finally:
            controller.stop()
        click.echo(f"{held.received} letters received")

    @cli.command("notify-smsc")
    @click.pass_obj
    def smsc_cmd(env):
        """A local SMPP server on notify.smpp.host:port that prints every text and
        answers with delivery receipts (the demo's SMS centre: the Procfile's ``smsc``)."""
        from .settings import Settings
        from .smsc import SMSC
        settings = Settings(env.settings)
        server = SMSC(settings.smpp_host, settings.smpp_port,
                      log=lambda to, text: click.echo(f"SMS to {to}: {text}"))
        click.echo(f"SMPP server on {settings.smpp_host}:{settings.smpp_port}")
        stop = threading.Event()
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: stop.set())
        while not stop.wait(1):
            pass
        server.stop()
