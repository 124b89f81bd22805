"""The example feature of docs/architecture.md (``tests/blocklog``) works
as the recipe says: its subscriber hears a block made on the contract page,
its panel shows on the card, its command prints the notes."""
import click
from click.testing import CliRunner

from portmonet.features import BUILTIN

from .conftest import Site, csrf_of, make_app, populate


def test_the_example_feature_hears_shows_and_prints(tmp_path):
    site = Site(make_app("memory://", **{"portmonet.features": " ".join(BUILTIN + ("blocklog",))}))
    site.change(populate)
    client = site.login("manager")
    assert client.get("/subscribers/1001/").html.find(id="block-log") is None
    page = client.get("/subscribers/1001/1001-1/@@status")
    client.post("/subscribers/1001/1001-1/@@status",
                {"status": "blocked", "reason": "asked to", "csrf_token": csrf_of(page)},
                status=302)
    panel = client.get("/subscribers/1001/").html.find(id="block-log")
    assert panel.find("li").text == "internet-1: suspension"

    from blocklog.commands import register
    from portmonet.cli import Env
    env = Env(str(tmp_path / "unused.ini"))
    env._db = site.db                      # the app's database, not the ini's
    group = click.Group()
    register(group)
    out = CliRunner().invoke(group, ["block-log", "1001"], obj=env)
    assert out.exit_code == 0, out.output
    assert out.output == "internet-1: suspension\n"
