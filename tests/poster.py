"""A separate ZEO client process for the concurrency tests.

    python -m tests.poster PORT ACCOUNT PREFIX COUNT AMOUNT [guarded]

Waits for the file named by $POSTER_GO so both processes start together,
then posts COUNT times (one transaction each, retried on ConflictError)
and prints how many posted and how many were refused for lack of funds.
"""
import os
import sys
import time

import ZEO

from portmonet import crypto, db as dbmod
from portmonet.ledger import InsufficientFunds


def main():
    port, number, prefix, count, amount = sys.argv[1:6]
    guarded = len(sys.argv) > 6
    crypto.configure(crypto.DEMO_KEY)
    database = ZEO.DB(("127.0.0.1", int(port)), wait_timeout=30)
    go = os.environ["POSTER_GO"]
    while not os.path.exists(go):
        time.sleep(0.01)
    posted = refused = 0
    for i in range(int(count)):
        def post(root, i=i):
            account = root.catalog.accounts.get(number)
            kind = "transfer" if guarded else ("payment" if int(amount) > 0 else "charge")
            return account.post(int(amount), kind, f"{prefix}:{i}", must_not_overdraw=guarded)[1]
        try:
            posted += dbmod.transact(database, post, f"poster {prefix}", f"post {prefix}:{i}",
                                     attempts=50)
        except InsufficientFunds:
            refused += 1
    database.close()
    print(f"{posted} {refused}")


if __name__ == "__main__":
    main()
