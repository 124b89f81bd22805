"""The web feature has no commands of its own; loading this module (as the
CLI does for every feature) registers its part of ``portmonet check``."""
from . import checks  # noqa: F401  (registers the books check)


def register(cli):
    pass
