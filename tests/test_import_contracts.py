"""The layers written in ``.importlinter`` hold, and the check catches a
wrong import: ``lint-imports`` run on a copy of the package with one bad
import added must fail (so CI, which runs it in ``make test``, would)."""
import os
import shutil
import subprocess
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
PROJECT = os.path.dirname(HERE)
LINT = os.path.join(os.path.dirname(sys.executable), "lint-imports")


def lint(project):
    env = dict(os.environ, PYTHONPATH=os.path.join(project, "src"))
    return subprocess.run([LINT, "--no-cache"], cwd=project, env=env, capture_output=True,
                          text=True, timeout=300)


def test_the_tree_keeps_its_contracts():
    out = lint(PROJECT)
    assert out.returncode == 0, out.stdout + out.stderr


@pytest.mark.parametrize("module, bad, broken", [
    # the core reaching into a feature
    ("web/views/bad_idea.py", "from ...radius import coa\n", "The core imports no feature"),
    # a feature below reaching up: a cycle between tariffs and billing
    ("tariffs/bad_idea.py", "from ..billing import debt\n", "A feature imports only"),
])
def test_a_wrong_import_breaks_a_contract(tmp_path, module, bad, broken):
    copy = tmp_path / "project"
    shutil.copytree(os.path.join(PROJECT, "src"), copy / "src",
                    ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    shutil.copy(os.path.join(PROJECT, ".importlinter"), copy / ".importlinter")
    assert lint(str(copy)).returncode == 0
    (copy / "src" / "portmonet" / module).write_text(bad)
    out = lint(str(copy))
    assert out.returncode != 0
    assert broken in out.stdout and "bad_idea" in out.stdout
