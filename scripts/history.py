#!/usr/bin/env python
"""Show the history of one object: who changed it, when, why, and what.

    .venv/bin/python scripts/history.py -c development.ini /subscribers/1/1-1/account
    .venv/bin/python scripts/history.py -c development.ini --oid 0x2a --limit 50

The path is the object's URL path (traversal); ``--oid`` takes a ZODB oid.
Secret fields (passwords, identity documents) are shown only as changed.
"""
import argparse
import sys

from pyramid.traversal import find_resource

from portmonet import db as dbmod
from portmonet.model.root import get_root
from portmonet.ops.history import object_history, oid_of


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[1])
    parser.add_argument("-c", "--config", default=None)
    parser.add_argument("path", nargs="?", help="URL path of the object, e.g. /subscribers/1")
    parser.add_argument("--oid", help="ZODB oid (0x.. or decimal) instead of a path")
    parser.add_argument("--limit", type=int, default=20)
    args = parser.parse_args(argv)
    if not args.path and not args.oid:
        parser.error("give a path or --oid")
    settings = dbmod.load_settings(args.config)
    dbmod.configure(settings)
    db = dbmod.open_database(settings)
    try:
        with dbmod.connection(db) as (conn, tm):
            if args.oid:
                obj = conn.get(oid_of(args.oid))
            else:
                try:
                    obj = find_resource(get_root(conn.root()), args.path)
                except KeyError:
                    print(f"no object at {args.path}", file=sys.stderr)
                    return 2
            print(f"{type(obj).__name__} {getattr(obj, '__name__', '')} oid=0x{int.from_bytes(obj._p_oid, 'big'):x}")
            for entry in object_history(db, obj, args.limit):
                print(f"{entry['time']:%Y-%m-%d %H:%M:%S} UTC  {entry['user'] or '-'}  {entry['note']}  [{entry['tid']}]")
                for name, before, after in entry["changes"]:
                    print(f"    {name}: {before} -> {after}")
    finally:
        db.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
