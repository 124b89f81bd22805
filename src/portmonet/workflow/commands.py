"""``portmonet workflow ...``: load and check process definitions, list
them, start a request, and run the timer."""
import time

import click

from .. import db as dbmod
from ..cli import app_root, transact_or_refuse
from .actions import WorkflowRefused
from .definition import DefinitionError

USER = "portmonet workflow"


def register(cli):

    @cli.group("workflow")
    def workflow_group():
        """Configurable business processes (docs/workflow.md)."""

    @workflow_group.command("check")
    @click.argument("path", type=click.Path(exists=True, dir_okay=False))
    def check_cmd(path):
        """Check a definition file without installing it."""
        from .library import read
        try:
            definition = read(_text(path))
        except DefinitionError as exc:
            _refuse(path, exc)
        click.echo(f"{path}: {definition.name}: {len(definition.states)} states, "
                   f"{len(definition.transitions)} transitions: OK")

    @workflow_group.command("load")
    @click.argument("path", type=click.Path(exists=True, dir_okay=False))
    @click.pass_obj
    def load_cmd(env, path):
        """Install a definition file as the newest version of its process."""
        from .library import install
        text = _text(path)
        try:
            process, version = transact_or_refuse(
                env, lambda root: _installed(install(root, text)), USER, f"load {path}",
                refused=WorkflowRefused)
        except DefinitionError as exc:
            _refuse(path, exc)
        click.echo(f"{process}: version {version}")

    @workflow_group.command("list")
    @click.pass_obj
    def list_cmd(env):
        """Processes, their newest version, and how many requests are open."""
        with dbmod.connection(env.db) as (conn, tm):
            folder = app_root(conn).get("workflows")
            if folder is None:
                raise click.ClickException("workflows are not installed: run 'portmonet evolve'")
            for process in folder.processes():
                click.echo(f"{process.name}\tv{process.current.version}\t{process.title}")
            click.echo(f"open requests: {folder.requests.open_count()}")

    @workflow_group.command("start")
    @click.argument("process")
    @click.argument("subject")
    @click.option("--set", "values", multiple=True, metavar="NAME=VALUE",
                  help="Data of the request (e.g. --set service=internet-1).")
    @click.pass_obj
    def start_cmd(env, process, subject, values):
        """Start a request: SUBJECT is subscriber:<id> or contract:<number>."""
        from .engine import start
        data = dict(v.split("=", 1) for v in values if "=" in v)
        key = transact_or_refuse(
            env, lambda root: start(root, process, subject, USER, data).__name__,
            USER, f"start {process} for {subject}", refused=WorkflowRefused)
        click.echo(f"request {key} started")

    @workflow_group.command("timers")
    @click.option("--loop", is_flag=True, help="Keep running every --interval seconds.")
    @click.option("--interval", type=click.FloatRange(1), default=60, show_default=True)
    @click.pass_obj
    def timers_cmd(env, loop, interval):
        """Move or escalate the requests whose deadline has passed."""
        from .engine import sweep
        while True:
            moved, escalated = dbmod.transact(env.db, sweep, USER, "workflow timers")
            click.echo(f"workflow timers: {moved} moved, {escalated} escalated")
            if not loop:
                return
            time.sleep(interval)


def _installed(found):
    process, version = found
    return process.name, version


def _text(path):
    with open(path, encoding="utf-8") as f:
        return f.read()


def _refuse(path, exc):
    for problem in exc.problems:
        click.echo(f"{path}: {problem}", err=True)
    raise click.ClickException(f"{path}: not a usable process definition")
