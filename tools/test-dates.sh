#!/usr/bin/env bash
# Run tests under libfaketime at instants that have bitten billing systems:
# the last seconds of a month (the run crosses midnight), just after New
# Year, 29 February, a year ahead, and a server whose TZ is not the
# operator's.  Usage: tools/test-dates.sh [--quick] [pytest arguments];
# default: the time-sensitive part (billing, rating, tariffs, payments,
# RADIUS, ledger) at all five instants; --quick (what `make test` runs, to
# keep CI short): the two month ends only.
set -euo pipefail
cd "$(dirname "$0")/.."
quick=
if [ "${1:-}" = "--quick" ]; then quick=1; shift; fi
LIB=$(ls /usr/lib/*/faketime/libfaketime.so.1 2>/dev/null | head -n 1)
[ -n "$LIB" ] || { echo "libfaketime not found: apt-get install faketime" >&2; exit 2; }
[ $# -gt 0 ] || set -- tests/billing tests/rating tests/tariffs tests/payments tests/radius \
    tests/test_ledger.py tests/test_clock.py
# TZ|instant (the instant is read in that TZ)
INSTANTS=(
    "UTC|2026-11-30 23:59:40"
    "UTC|2027-01-01 00:00:05"
    "UTC|2028-02-29 12:00:00"
    "UTC|2027-12-04 12:00:00"
    "America/Los_Angeles|2026-11-30 15:59:40"
)
[ -z "$quick" ] || INSTANTS=("${INSTANTS[0]}" "${INSTANTS[4]}")
failed=()
for spec in "${INSTANTS[@]}"; do
    tz=${spec%%|*}; at=${spec#*|}
    echo "== tests at $at ($tz)" >&2
    # An offset from the real time, the same for every process the tests
    # start (ZEO, portmonet, radclient): "@instant" would start each new
    # process's clock at that instant again.  The monotonic clock is faked
    # too: with a real one Python's sleep fails under libfaketime.
    offset=$(( $(TZ=$tz date -d "$at" +%s) - $(date +%s) ))
    [ "$offset" -lt 0 ] || offset="+$offset"
    if ! TZ=$tz FAKETIME="$offset" LD_PRELOAD=$LIB \
            PYTHONWARNINGS=ignore .venv/bin/pytest -q -p no:cacheprovider "$@"; then
        failed+=("$at $tz")
    fi
done
if [ ${#failed[@]} -gt 0 ]; then
    printf 'failed at: %s\n' "${failed[@]}" >&2
    exit 1
fi
echo "all instants passed" >&2
