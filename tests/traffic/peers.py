"""Real peers for the traffic tests: a pcap made here, softflowd reading
it as the exporter, nfcapd + nfdump as the reference collector, and the
real ``portmonet flows`` process."""
import collections
import os
import shutil
import signal
import socket
import subprocess
import sys
import time

import dpkt

sys.path.insert(0, os.path.dirname(os.path.dirname(__file__)))
from conftest import BIN, run_portmonet  # noqa: E402  (the project's fixtures module)

SOFTFLOWD = shutil.which("softflowd") or "/usr/sbin/softflowd"
NFCAPD = shutil.which("nfcapd")
NFDUMP = shutil.which("nfdump")
if not os.path.exists(SOFTFLOWD) or NFCAPD is None or NFDUMP is None:
    raise RuntimeError("the traffic tests need softflowd and nfdump "
                       "(make system-packages, or apt-get install -y softflowd nfdump)")


def write_pcap(path, packets):
    """*packets*: (time s, src, dst, payload octets[, source port]), UDP in
    Ethernet; a packet's octets as exporters count them are 28 + payload."""
    with open(path, "wb") as f:
        writer = dpkt.pcap.Writer(f)
        for when, src, dst, size, *port in packets:
            udp = dpkt.udp.UDP(sport=port[0] if port else 1024, dport=53, data=b"x" * size)
            udp.ulen = len(udp)
            packet = dpkt.ip.IP(src=socket.inet_aton(src), dst=socket.inet_aton(dst), p=17,
                                ttl=64, data=udp)
            packet.len = len(packet)
            frame = dpkt.ethernet.Ethernet(src=b"\x02" * 6, dst=b"\x04" * 6, type=0x0800,
                                           data=packet)
            writer.writepkt(bytes(frame), ts=when)
    return path


def softflowd(pcap, port, version):
    """Export *pcap*'s flows to 127.0.0.1:*port* as NetFlow *version* (5, 9, 10)."""
    subprocess.run([SOFTFLOWD, "-r", pcap, "-n", f"127.0.0.1:{port}", "-v", str(version)],
                   check=True, capture_output=True, timeout=60)


def free_udp_port():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def nfdump_octets(pcap, workdir, version=9):
    """The reference: softflowd -> nfcapd, read back with nfdump.
    {address text: octets} over both ends of every flow, and the flows."""
    flowdir = os.path.join(workdir, "nfcapd")
    os.makedirs(flowdir, exist_ok=True)
    port = free_udp_port()
    proc = subprocess.Popen([NFCAPD, "-w", flowdir, "-p", str(port), "-b", "127.0.0.1"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        time.sleep(0.5)
        softflowd(pcap, port, version)
        time.sleep(0.5)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(10)
    out = subprocess.run([NFDUMP, "-R", flowdir, "-q", "-N", "-o", "fmt:%sa %da %byt"],
                         check=True, capture_output=True, text=True, timeout=60).stdout
    flows = [(s, d, int(o)) for s, d, o in (line.split() for line in out.splitlines() if line)]
    return flows


class FlowsProcess:
    """``portmonet flows`` as operators run it."""

    def __init__(self, ini):
        self.ini = ini
        self.log_path = os.path.join(os.path.dirname(ini), "flows.log")
        self.proc = None

    def start(self):
        self.log = open(self.log_path, "a")
        self.offset = self.log.tell()
        self.proc = subprocess.Popen([os.path.join(BIN, "portmonet"), "-c", self.ini, "flows"],
                                     stdout=self.log, stderr=subprocess.STDOUT,
                                     env=dict(os.environ, PYTHONWARNINGS="ignore"))
        deadline = time.time() + 60
        while time.time() < deadline:
            if "listening on" in self.output()[self.offset:]:
                return self
            if self.proc.poll() is not None:
                raise RuntimeError(self.output())
            time.sleep(0.1)
        raise RuntimeError("portmonet flows did not start:\n" + self.output())

    def output(self):
        with open(self.log_path) as f:
            return f.read()

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
        return self.proc.returncode

    def kill9(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()
        self.log.close()


def per_address(flows, addresses):
    """{address: octets} of the flows that have *addresses* at either end."""
    out = collections.Counter()
    for src, dst, octets in flows:
        for end in {src, dst}:
            if end in addresses:
                out[end] += octets
    return out


def wait_for(predicate, timeout=30, step=0.2):
    deadline = time.time() + timeout
    while True:
        value = predicate()
        if value or time.time() > deadline:
            return value
        time.sleep(step)


def flows_ini(zeo_server, tmp_path, **settings):
    """An ini for a collector on a free loopback port (windows of 0.5 s),
    the database installed; returns (ini, port)."""
    port = free_udp_port()
    settings = dict({"flows_bind": "127.0.0.1", "flows_port": port, "flows_window": "0.5",
                     "flows_template_wait": "1"}, **settings)
    ini = zeo_server.ini(tmp_path / "flows.ini", **settings)
    run_portmonet("init", ini=ini)
    return ini, port


def read(db, func):
    """``func(root)`` in a transaction of its own."""
    from portmonet.model.root import get_root
    with db.transaction() as conn:
        return func(get_root(conn.root()))


def by_login(root):
    """Octets counted per login (both directions, every class)."""
    from portmonet.traffic.store import totals
    out = collections.Counter()
    for (login, _), (octets_in, octets_out) in totals(root, "subscriber").items():
        out[login] += octets_in + octets_out
    return out
