"""``portmonet block-log SUBSCRIBER``: the feature's command."""
import click

from portmonet.cli import app_root, pass_env
from portmonet.db import connection

from . import notes_of


def register(cli):
    @cli.command("block-log")
    @click.argument("subscriber_id")
    @pass_env
    def block_log(env, subscriber_id):
        """Print why a subscriber's services were blocked."""
        with connection(env.db) as (conn, tm):
            subscriber = app_root(conn)["subscribers"].get(subscriber_id)
            if subscriber is None:
                raise click.ClickException(f"no subscriber {subscriber_id}")
            for note in (notes_of(subscriber) or {}).values():
                click.echo(note)
