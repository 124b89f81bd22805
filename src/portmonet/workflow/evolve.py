"""Install the workflows folder and the built-in processes."""
from ..evolve import step
from .library import install_builtin


@step("2026-12-04-workflow-01-folder-and-processes")
def add_workflows(root):
    install_builtin(root)
