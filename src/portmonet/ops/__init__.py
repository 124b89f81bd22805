"""Maintenance operations behind the command line: check, seed, import, export."""
