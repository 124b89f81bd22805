"""Portmonet: billing and settlement for Internet service providers and
telecom operators, on ZODB/ZEO and Pyramid.

``main`` is the WSGI application factory (``pserve development.ini``);
:func:`bootstrap` builds the registry of any other process from the same
list of features (``portmonet.features``).
"""
import logging
import warnings

# Pyramid still imports pkg_resources, whose deprecation warning would open
# every command's output; nothing of Portmonet's uses it.
warnings.filterwarnings("ignore", message="pkg_resources is deprecated", category=UserWarning)

import transaction  # noqa: E402
from pyramid.config import Configurator  # noqa: E402
from pyramid_zodbconn import get_connection  # noqa: E402

from .features import bootstrap, include_features, use_registry

__all__ = ["main", "bootstrap"]     # bootstrap: every other process's registry

log = logging.getLogger(__name__)


def root_factory(request):
    from .model.root import get_root
    return get_root(get_connection(request).root())


def prepare_database(config, settings):
    """Install a new database and check its evolve state before serving."""
    from . import evolve
    from .model.root import install
    from .txn import describe
    db = config.registry._zodb_databases[""]
    tm = transaction.TransactionManager()
    conn = db.open(transaction_manager=tm)
    try:
        root = install(conn.root())
        txn = tm.get()
        describe(txn, "portmonet web", "start-up: install if new")
        tm.commit()
        waiting = evolve.pending(root)
        if waiting:
            if settings.get("portmonet.evolve_on_start", "false").lower() in ("true", "1", "yes"):
                evolve.run(root, user="portmonet web start-up", tm=tm)
            else:
                raise RuntimeError(
                    f"the database needs evolve steps {', '.join(waiting)}: run 'portmonet evolve'")
    finally:
        tm.abort()
        conn.close()


def main(global_config, **settings):
    from . import db as dbmod
    dbmod.configure(settings)
    settings.setdefault("tm.manager_hook", "pyramid_tm.explicit_manager")
    with Configurator(settings=settings, root_factory=root_factory) as config:
        config.include("pyramid_chameleon")
        config.include("pyramid_retry")
        config.include("pyramid_tm")
        config.include("pyramid_zodbconn")
        config.include(".web")
        include_features(config)
        prepare_database(config, settings)
    from .web import wsgi_app
    app = wsgi_app(config)
    # Events fired outside a request (a committer thread) go through this app's registry.
    use_registry(config.registry)
    return app
