"""A terminal network in a process of its own: sends OSMP pays and prints
the answers as JSON lines.  Used by the concurrency test and the bench.

    python osmp_client.py BASE_URL LOGIN PASSWORD ACCOUNTS FIRST_TXN COUNT
"""
import base64
import json
import sys
import urllib.parse
import urllib.request
from xml.etree import ElementTree


def main(base, login, password, accounts, first, count):
    accounts = accounts.split(",")
    auth = "Basic " + base64.b64encode(f"{login}:{password}".encode()).decode()
    opener = urllib.request.build_opener()
    for txn in range(int(first), int(first) + int(count)):
        params = {"command": "pay", "txn_id": str(txn), "account": accounts[txn % len(accounts)],
                  "sum": f"{1 + txn % 7}.{txn % 100:02d}", "txn_date": "20261125120000"}
        req = urllib.request.Request(f"{base}?{urllib.parse.urlencode(params)}",
                                     headers={"Authorization": auth})
        with opener.open(req, timeout=60) as resp:
            doc = ElementTree.fromstring(resp.read())
        out = {child.tag: child.text or "" for child in doc}
        print(json.dumps(out), flush=True)


if __name__ == "__main__":
    main(*sys.argv[1:])
