"""Registers the payments check with ``portmonet check`` (on import)."""
from ..ops.check import EXTRA_CHECKS
from .reconcile import check_received_booked

if check_received_booked not in EXTRA_CHECKS:
    EXTRA_CHECKS.append(check_received_booked)
