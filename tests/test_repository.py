"""The repository holds no stray copies of templates (issue 20): the only
templates are the package's (and the test-only features' under tests/),
and every macro a template loads is found inside the package — so nothing
can read a stale copy."""
import os
import re

HERE = os.path.dirname(os.path.abspath(__file__))
PROJECT = os.path.dirname(HERE)
PACKAGE = os.path.join(PROJECT, "src", "portmonet")
LOAD = re.compile(r"load:\s*([^\"'\s]+\.pt)")


def test_no_template_outside_the_package():
    stray = []
    for folder, dirs, files in os.walk(PROJECT):
        dirs[:] = [d for d in dirs if not d.startswith(".")
                   and (folder, d) not in ((PROJECT, "src"), (PROJECT, "tests"))]
        stray += [os.path.join(folder, f) for f in files if f.endswith(".pt")]
    assert stray == []


def test_every_loaded_macro_is_a_template_of_the_package():
    loads = 0
    for folder, _, files in os.walk(PACKAGE):
        for name in files:
            if name.endswith(".pt"):
                with open(os.path.join(folder, name), encoding="utf-8") as f:
                    for target in LOAD.findall(f.read()):
                        # an asset spec (portmonet:web/templates/x.pt) or a relative path
                        spec = target.split(":", 1)
                        path = os.path.realpath(
                            os.path.join(PACKAGE, spec[1]) if spec[0] == "portmonet"
                            and len(spec) == 2 else os.path.join(folder, target))
                        assert path.startswith(PACKAGE + os.sep) and os.path.exists(path), \
                            (name, target)
                        loads += 1
    assert loads > 20
