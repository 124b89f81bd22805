"""Opening the database named by the configuration, and units of work on it.

Every process reads the same Pyramid-style ``.ini``; ``zodbconn.uri`` in its
``[app:main]`` section is a zodburi URI (``zeo://``, ``file://``,
``memory://``), so moving to RelStorage is a change of URI, not of code.
"""
import contextlib
import logging
import os

import transaction
import ZODB
import zodburi
from ZODB.POSException import ConflictError

from . import clock, crypto
from .clientcache import zeo_with_memory_cache
from .model.root import get_root
from .txn import describe

log = logging.getLogger(__name__)

DEFAULT_CONFIG = "development.ini"


def config_path(path=None):
    return os.path.abspath(path or os.environ.get("PORTMONET_CONFIG") or DEFAULT_CONFIG)


def load_settings(path=None):
    """The ``[app:main]`` settings of an ini file (with ``%(here)s`` resolved)."""
    from pyramid.paster import get_appsettings, setup_logging
    path = config_path(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"configuration file {path} not found")
    setup_logging(path)
    settings = dict(get_appsettings(path, "main"))
    settings["__file__"] = path
    return settings


def secret_keys(settings):
    """Encryption keys: $PORTMONET_SECRET_KEYS, else the file named by
    ``portmonet.secret_keys_file``, else ``portmonet.secret_keys``."""
    keys = os.environ.get("PORTMONET_SECRET_KEYS")
    if keys:
        return keys
    path = settings.get("portmonet.secret_keys_file")
    if path:
        with open(path, encoding="ascii") as f:
            return f.read()
    return settings.get("portmonet.secret_keys", "")


def configure(settings):
    """What every process does with its settings before touching the data:
    the encryption keys, and no secret in its logs."""
    from .masking import install_log_masking
    install_log_masking()
    crypto.configure(secret_keys(settings))
    clock.configure(settings)


def open_database(settings, uri=None, client_cache=True):
    """The database of *settings* (or *uri*); ``client_cache=False`` for a
    worker that keeps its objects in its connection cache: a ZEO client
    then has a small in-memory cache instead of ZEO's cache file
    (``portmonet.clientcache``)."""
    uri = uri or settings["zodbconn.uri"]
    storage_factory, dbkw = zodburi.resolve_uri(uri)
    if client_cache or not uri.startswith("zeo://"):
        return _db(storage_factory, dbkw)
    with zeo_with_memory_cache():
        return _db(storage_factory, dbkw)


def _db(storage_factory, dbkw, attempts=5):
    """``ZODB.DB`` on a new storage.  Opening a brand-new database stores its
    root mapping (oid 0); processes that open it at the same moment race
    for that and all but one get a ConflictError: they open it again and
    find the winner's root."""
    for attempt in range(attempts):
        storage = storage_factory()
        try:
            return ZODB.DB(storage, **dbkw)
        except ConflictError:
            storage.close()
            if attempt == attempts - 1:
                raise
            log.info("the new database's root was made by another process: opening again")


def transact(db, func, user, note, attempts=5):
    """Run ``func(app_root)`` in one transaction, retried on ConflictError."""
    tm = transaction.TransactionManager()
    conn = db.open(transaction_manager=tm)
    try:
        for attempt in tm.attempts(attempts):
            with attempt as txn:
                describe(txn, user, note)
                result = func(get_root(conn.root()))
        return result
    finally:
        conn.close()


@contextlib.contextmanager
def connection(db):
    """A connection with its own transaction manager (for workers and tools)."""
    tm = transaction.TransactionManager()
    conn = db.open(transaction_manager=tm)
    try:
        yield conn, tm
    finally:
        tm.abort()
        conn.close()


def commit(tm, user, note):
    txn = tm.get()
    describe(txn, user, note)
    tm.commit()


__all__ = ["ConflictError", "load_settings", "configure", "open_database",
           "transact", "connection", "commit"]
