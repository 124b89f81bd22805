"""A collector process for the multi-process test: enqueues usage records
through a real ZEO server in small transactions, retried on conflicts.

    python collector.py PORT PREFIX COUNT BATCH SUBJECT...

Subjects starting with a digit are telephone lines (calls), others logins
(traffic).  Prints "enqueued N in T transactions, R retries"."""
import sys

import ZEO

from portmonet import db as dbmod
from portmonet.usage import UsageRecord

START = 1709546400_000_000          # 2024-03-04 13:00 MSK


def record(prefix, i, subject):
    when = START + i * 1_000_000
    if subject[0].isdigit():
        return UsageRecord(f"{prefix}:{i}", "call", subject, when, when + 60_000_000,
                           {"seconds": 60}, {"destination": "74992223344"})
    return UsageRecord(f"{prefix}:{i}", "traffic", subject, when, when + 60_000_000,
                       {"octets_in": 100_000_000, "octets_out": 10_000_000}, {"remote": "8.8.8.8"})


def main():
    port, prefix, count, batch = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    subjects = sys.argv[5:]
    db = ZEO.DB(("127.0.0.1", int(port)), wait_timeout=30)
    runs = transactions = 0
    for first in range(0, count, batch):
        def work(root, first=first):
            nonlocal runs
            runs += 1
            for i in range(first, min(first + batch, count)):
                assert root.usage.enqueue(record(prefix, i, subjects[i % len(subjects)]))
        dbmod.transact(db, work, "collector", f"{prefix} from {first}", attempts=20)
        transactions += 1
    db.close()
    print(f"enqueued {count} in {transactions} transactions, {runs - transactions} retries")


if __name__ == "__main__":
    main()
