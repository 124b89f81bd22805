"""Installing process definitions: the built-in ones (``processes/``) and
an operator's files (``portmonet workflow load``, the workplace)."""
import os

from ..model.staff import ROLES
from .actions import ACTIONS, CONDITIONS
from .definition import parse
from .model import Process, Workflows

BUILTIN_DIR = os.path.join(os.path.dirname(__file__), "processes")


def read(text):
    """A checked Definition from *text* (DefinitionError if it is wrong)."""
    return parse(text, ROLES, ACTIONS, CONDITIONS)


def builtin_texts():
    for name in sorted(os.listdir(BUILTIN_DIR)):
        if name.endswith(".yaml"):
            with open(os.path.join(BUILTIN_DIR, name), encoding="utf-8") as f:
                yield name, f.read()


def install(root, text):
    """Read *text* and keep it as the newest version of its process;
    returns (process, version number)."""
    definition = read(text)
    folder = ensure_folder(root)
    process = folder.get(definition.name)
    if process is None:
        process = folder.add(definition.name, Process(definition.name))
    return process, process.add_version(definition)


def ensure_folder(root):
    if "workflows" not in root:
        root.add("workflows", Workflows())
    return root["workflows"]


def install_builtin(root):
    """Every built-in process a database has not got yet."""
    folder = ensure_folder(root)
    for _name, text in builtin_texts():
        definition = read(text)
        if definition.name not in folder:
            install(root, text)
