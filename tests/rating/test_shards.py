"""Several processes on one real ZEO server: collectors enqueueing at once,
and raters of different shards rating at once -- every record charged
exactly once, the books check clean, and the raters never in each other's
way."""
import os
import subprocess
import sys

import pytest

from portmonet.model.root import get_root
from portmonet.usage import LANES, lane_of, shard_lanes

from conftest import BIN, PROJECT, run_portmonet
from tariffs.world import phones_and_logins

pytestmark = pytest.mark.integration
HERE = os.path.dirname(os.path.abspath(__file__))
N_CONTRACTS = 12


def subjects_of(zeo_db):
    numbers, logins = phones_and_logins(zeo_db, N_CONTRACTS)
    return numbers + logins


def start(args, **kw):
    return subprocess.Popen(args, cwd=PROJECT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=dict(os.environ, PYTHONWARNINGS="ignore",
                                                PYTHONPATH=os.path.dirname(HERE)), **kw)


def collectors(zeo_server, subjects, prefixes, count, batch):
    return [start([sys.executable, os.path.join(HERE, "collector.py"), str(zeo_server.port),
                   prefix, str(count), str(batch)] + subjects) for prefix in prefixes]


def finish(procs, timeout=60):
    outs = []
    for p in procs:
        out, err = p.communicate(timeout=timeout)
        assert p.returncode == 0, err
        outs.append(out.strip())
    return outs


def conflicts(line):
    return int(line.split(" conflicts")[0].rsplit(" ", 1)[1])


def assert_books(zeo_db, ini, expected_ids):
    with zeo_db.transaction() as c:
        root = get_root(c.root())
        state = root["rating"]
        assert root.usage.count() == 0
        rated = [r for _, r in state.rated_items()]
        assert sorted(r.source_id for r in rated) == sorted(expected_ids)
        assert state.rated_count() == len(expected_ids) and not state.error_count()
        for r in rated:                         # each in the lane of its contract
            assert r.key & (LANES - 1) == lane_of(r.contract)
        charged = sum(r.amount for r in rated)
        posted = 0
        for account in root.catalog.accounts.tree.values():
            causes = [p.cause for p in account.postings()]
            assert len(causes) == len(set(causes))
            posted -= sum(p.amount for p in account.postings())
        assert posted == charged > 0
        # the usage charges are not in the cause index, and found all the same
        assert not list(root.catalog.causes.keys("usage:", "usage;"))
        some = rated[0]
        account = root.catalog.accounts.get(some.account)
        assert account.find_cause(some.cause).amount == -some.amount
        assert account.post(-some.amount, "charge", some.cause)[1] is False
    check = run_portmonet("check", ini=ini)
    assert check.stdout.startswith("OK") and f"rated={len(expected_ids)}" in check.stdout


def test_collectors_and_sharded_raters_at_once(zeo_server, zeo_db, tmp_path):
    subjects = subjects_of(zeo_db)
    ini = zeo_server.ini(tmp_path / "t.ini")
    # Two collectors enqueue while two raters (shards 0/2 and 1/2) rate.
    rate = [os.path.join(BIN, "portmonet"), "-c", ini, "rate", "--batch", "50",
            "--max-seconds", "12"]
    raters = [start(rate + ["--shard", f"{i}/2"]) for i in range(2)]
    feeds = collectors(zeo_server, subjects, ["nas1", "cdr1"], 400, 20)
    print(finish(feeds))
    lines = finish(raters)
    print(lines)
    rated = sum(int(line.split()[1].rstrip(",")) for line in lines)
    assert rated == 800 and "(shard 0/2)" in lines[0] and "(shard 1/2)" in lines[1]
    # Then a queue filled first and rated by `--workers 2`: two shards that
    # never conflict with each other.
    finish(collectors(zeo_server, subjects, ["nas2", "cdr2"], 600, 100))
    out = run_portmonet("rate", "--once", "--batch", "100", "--workers", "2", ini=ini).stdout
    lines = out.strip().splitlines()
    assert sorted(line.split("(")[1] for line in lines) == ["shard 0/2)", "shard 1/2)"]
    assert sum(int(line.split()[1].rstrip(",")) for line in lines) == 1200
    assert [conflicts(line) for line in lines] == [0, 0]
    assert_books(zeo_db, ini, [f"{p}:{i}" for p in ("nas1", "cdr1") for i in range(400)]
                 + [f"{p}:{i}" for p in ("nas2", "cdr2") for i in range(600)])


def test_shards_split_the_lanes():
    assert shard_lanes(0, 1) == tuple(range(LANES))
    assert shard_lanes(1, 3) == (1, 4, 7, 10, 13)
    taken = sorted(lane for i in range(5) for lane in shard_lanes(i, 5))
    assert taken == list(range(LANES))
    with pytest.raises(ValueError):
        shard_lanes(2, 2)
    with pytest.raises(ValueError):
        shard_lanes(0, LANES + 1)


def test_bad_shard_is_refused(zeo_server, zeo_db, tmp_path):
    ini = zeo_server.ini(tmp_path / "t.ini")
    out = run_portmonet("rate", "--once", "--shard", "2/2", ini=ini, check=False)
    assert out.returncode == 2 and "0 <= I < N <= 16" in out.stderr
