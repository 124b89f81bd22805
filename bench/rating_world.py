"""Shared by the rating and billing benches: a real ZEO server in a
temporary folder, an ini for it, and a world of contracts built in bulk."""
import datetime
import os
import shutil
import subprocess
import sys
import tempfile

BIN = os.path.dirname(sys.executable)
from zeo import DEMO_KEY, free_port, wait_port  # noqa: E402

PLANS = """
tariffs:
  - name: net
    kind: internet
    timezone: Europe/Moscow
    versions:
      - effective: 2024-01-01
        fee: {amount: "600.00"}
        tax: {rate: 20, included: true}
        rate_limit: 100M/100M
        periods: [{name: night, from: "01:00", to: "07:00"}]
        traffic_classes: {local: [10.0.0.0/8]}
        volume:
          - {name: local-free, classes: [local], price: "0"}
          - {name: night-free, period: night, price: "0"}
          - {name: download, direction: in, price: "1.00", unit: GB, allowance: 10 GB}
          - {name: upload, direction: out, price: "0.50", unit: GB}
  - name: tel
    kind: phone
    timezone: Europe/Moscow
    versions:
      - effective: 2024-01-01
        fee: {amount: "250.00"}
        tax: {rate: 20, included: false}
        periods: [{name: night, from: "22:00", to: "06:00"}]
        zones:
          - {name: emergency, prefixes: ["112"], price: "0"}
          - {name: local, prefixes: ["7495", "7499"], price: "1.00", prices: {night: "0.50"}}
          - {name: mobile, prefixes: ["79"], price: "2.00", increment: 1/1, free_seconds: 3}
          - {name: russia, prefixes: ["7"], price: "3.00", increment: 30/6, connection_fee: "0.30"}
          - {name: world, prefixes: ["1", "44", "49", "33"], price: "0.10", per: second}
"""


class Zeo:
    """*template*: a Data.fs to start from (copied, with its index, never
    opened in place), e.g. the shared 1,000,000-subscriber seed."""

    def __init__(self, template=None):
        self.dir = tempfile.mkdtemp(prefix="portmonet-bench-")
        if template:
            for suffix in ("", ".index"):
                if os.path.exists(template + suffix):
                    shutil.copyfile(template + suffix, os.path.join(self.dir, "Data.fs" + suffix))
        self.port = free_port()
        conf = os.path.join(self.dir, "zeo.conf")
        with open(conf, "w") as f:
            f.write(f"<zeo>\n  address 127.0.0.1:{self.port}\n</zeo>\n"
                    f"<filestorage>\n  path {self.dir}/Data.fs\n</filestorage>\n")
        self.proc = subprocess.Popen([os.path.join(BIN, "runzeo"), "-C", conf],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        # a big copied storage takes a while to open
        wait_port(self.port, self.proc, "runzeo", deadline=600)
        self.ini = os.path.join(self.dir, "bench.ini")
        with open(self.ini, "w") as f:
            f.write("[app:main]\nuse = egg:portmonet\n"
                    f"zodbconn.uri = zeo://127.0.0.1:{self.port}?cache_size=512MB"
                    "&connection_cache_size=400000&wait_timeout=60\n"
                    f"portmonet.secret_keys = {DEMO_KEY}\n")

    def db(self):
        import ZEO
        return ZEO.DB(("127.0.0.1", self.port), cache_size=512 * 2**20, wait_timeout=60)

    def cpu_seconds(self):
        """CPU time the ZEO server has used so far."""
        with open(f"/proc/{self.proc.pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def saved_as(self, path):
        """Stop, keep a copy of the storage (with its index) at *path*, and
        return a server started on a fresh copy of it."""
        self.proc.terminate()
        self.proc.wait(60)
        for suffix in ("", ".index"):
            source = os.path.join(self.dir, "Data.fs" + suffix)
            if os.path.exists(source):
                shutil.copyfile(source, path + suffix)
        shutil.rmtree(self.dir, ignore_errors=True)
        return Zeo(path)

    def stop(self):
        self.proc.terminate()
        self.proc.wait(30)
        shutil.rmtree(self.dir, ignore_errors=True)


def build(db, contracts, batch=2000, opening=100000, broke_every=0, first_id=1):
    """*contracts* subscribers (ids from *first_id*), each a contract with
    Internet (login b<id>) and a phone line (7495<id>); every
    *broke_every*-th has no opening payment."""
    import transaction
    from portmonet import crypto
    from portmonet.model.root import get_root, install
    from portmonet.model.services import InternetService, TelephoneLine
    from portmonet.model.subscriber import Subscriber
    from portmonet.tariffs.loader import install as install_tariffs, load_text, parse_document
    crypto.configure(DEMO_KEY)
    tm = transaction.TransactionManager()
    conn = db.open(transaction_manager=tm)
    from portmonet import evolve
    root = install(conn.root())
    tm.commit()
    evolve.run(root, user="bench", tm=tm)      # a copied template may predate steps
    if "net" not in root["tariffs"]:
        install_tariffs(root, parse_document(load_text(PLANS, "yaml")))
    tm.commit()
    root = get_root(conn.root())
    net, tel = root["tariffs"]["net"], root["tariffs"]["tel"]
    started = datetime.date(2024, 1, 1)
    for i in range(first_id, first_id + contracts):
        sub = root["subscribers"].add_subscriber(Subscriber(f"Bench {i}"), id=i)
        contract = sub.new_contract(signed=started)
        contract.add_service(InternetService(f"b{i}", None, tariff=net, started=started))
        contract.add_service(TelephoneLine(f"7495{i:07d}", tariff=tel, started=started))
        if opening and not (broke_every and i % broke_every == 0):
            contract.account.post(opening, "payment", f"bench:{i}", when=1)
        if i % batch == 0:
            tm.commit()
            conn.cacheMinimize()
    tm.commit()
    conn.close()


def peak_rss_mib(rusage):
    return rusage.ru_maxrss / 1024
