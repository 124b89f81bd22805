"""Schema evolution: named steps recorded in the database.

A feature declares steps in its ``evolve.py`` (this package's ``core.py``
for the core) with :func:`step`.  Names start with a date so they sort in
the order they were written; the names of the steps already run are kept in
``root.evolved``.  A new database runs every step as it is installed (so a
step that adds a feature's folder serves new and old databases alike, and
steps must do nothing harmful on an empty database); an older one is
brought up by ``portmonet evolve``, each step in a transaction of its own.
"""
import importlib
import logging
import pkgutil

import transaction

from ..txn import describe

log = logging.getLogger(__name__)

_STEPS = {}


def step(name):
    def register(func):
        if name in _STEPS and _STEPS[name] is not func:
            raise ValueError(f"evolve step {name!r} declared twice")
        _STEPS[name] = func
        return func
    return register


def _discover():
    import portmonet
    importlib.import_module("portmonet.evolve.core")
    for info in pkgutil.iter_modules(portmonet.__path__):
        if info.ispkg:
            try:
                importlib.import_module(f"portmonet.{info.name}.evolve")
            except ModuleNotFoundError as exc:
                if exc.name != f"portmonet.{info.name}.evolve":
                    raise


def steps():
    _discover()
    return sorted(_STEPS.items())


def pending(root):
    return [name for name, _ in steps() if name not in root.evolved]


def run_all_now(root):
    """For a new database: every step, in the caller's transaction."""
    for name, func in steps():
        func(root)
        root.evolved.add(name)


def run(root, user="portmonet evolve", only=None, tm=None):
    """Run pending steps, committing each; returns the names run."""
    tm = tm or transaction.manager
    done = []
    for name, func in steps():
        if name in root.evolved or (only and name not in only):
            continue
        log.info("evolve: running %s", name)
        txn = tm.begin()
        describe(txn, user, f"evolve {name}")
        func(root)
        root.evolved.add(name)
        tm.commit()
        done.append(name)
    return done
