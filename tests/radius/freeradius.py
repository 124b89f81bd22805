"""A real FreeRADIUS 3 server on loopback, configured from scratch in a
temporary folder: the NAS side for CoA/Disconnect (its ``coa`` virtual
server) and, for the benchmark, an authentication/accounting server with
the ``files`` module."""
import os
import shutil
import socket
import subprocess
import tempfile
import time

FREERADIUS = shutil.which("freeradius") or "/usr/sbin/freeradius"

BASE = """
prefix = /usr
exec_prefix = /usr
sysconfdir = /etc
localstatedir = /var
sbindir = /usr/sbin
confdir = {dir}
raddbdir = {dir}
run_dir = {dir}
logdir = {dir}
libdir = /usr/lib/freeradius
pidfile = {dir}/radiusd.pid
name = freeradius
max_request_time = 30
cleanup_delay = 5
max_requests = 65536
hostname_lookups = no
log {{
    destination = files
    file = {dir}/radius.log
    auth = no
}}
security {{
    allow_core_dumps = no
    max_attributes = 200
    reject_delay = 0
    status_server = no
    allow_vulnerable_openssl = yes
}}
thread pool {{
    start_servers = {threads}
    max_servers = {threads}
    min_spare_servers = 1
    max_spare_servers = {threads}
    max_requests_per_server = 0
}}
client local {{
    ipaddr = 127.0.0.1
    secret = {secret}
    require_message_authenticator = {require_ma}
}}
"""

COA_SERVER = """
listen {{
    type = coa
    ipaddr = 127.0.0.1
    port = {coa_port}
    virtual_server = coa
}}
server coa {{
    recv-coa {{
        coa_detail
        # A session the test says is unknown gets a NAK with Error-Cause.
        if (&User-Name == "{nak_user}") {{
            update reply {{
                &Error-Cause := Session-Context-Not-Found
            }}
            reject
        }}
        if (&User-Name == "{refuse_user}") {{
            update reply {{
                &Error-Cause := Administratively-Prohibited
            }}
            reject
        }}
        ok
    }}
    send-coa {{
        ok
    }}
}}
"""

ALWAYS = """
    always reject {{
        rcode = reject
    }}
    always ok {{
        rcode = ok
    }}
    detail coa_detail {{
        filename = {dir}/coa.detail
        escape_filenames = no
        permissions = 0600
        header = "%t"
        locking = no
    }}
"""

FILES_MODULES = """
    files {{
        filename = {dir}/users
        acctusersfile = {dir}/acct_users
    }}
    pap {{
    }}
    chap {{
    }}
    mschap {{
        use_mppe = yes
        require_encryption = no
        require_strong = no
    }}
    detail acct_detail {{
        filename = {dir}/acct.detail
        escape_filenames = no
        permissions = 0600
        header = "%t"
        locking = no
    }}
"""

FILES_SERVER = """
server default {{
    listen {{
        type = auth
        ipaddr = 127.0.0.1
        port = {auth_port}
    }}
    listen {{
        type = acct
        ipaddr = 127.0.0.1
        port = {acct_port}
    }}
    authorize {{
        files
        mschap
        pap
        chap
    }}
    authenticate {{
        Auth-Type PAP {{
            pap
        }}
        Auth-Type CHAP {{
            chap
        }}
        Auth-Type MS-CHAP {{
            mschap
        }}
    }}
    preacct {{
    }}
    accounting {{
        {accounting}
    }}
    post-auth {{
    }}
}}
"""


def free_udp_port():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class FreeRadius:
    """``freeradius -f`` with a generated configuration; stop() ends it."""

    def __init__(self, secret, coa=False, users=None, threads=4, nak_user="nak-me",
                 refuse_user="refuse-me", require_ma="no", detail=False):
        self.dir = tempfile.mkdtemp(prefix="portmonet-freeradius-")
        self.coa_port = free_udp_port() if coa else None
        self.auth_port = free_udp_port() if users is not None else None
        self.acct_port = free_udp_port() if users is not None else None
        conf = BASE.format(dir=self.dir, secret=secret, threads=threads, require_ma=require_ma)
        if coa:
            conf += COA_SERVER.format(coa_port=self.coa_port, nak_user=nak_user,
                                      refuse_user=refuse_user)
        conf += "modules {\n" + ALWAYS.format(dir=self.dir)
        if users is not None:
            conf += FILES_MODULES.format(dir=self.dir)
        conf += "}\n"
        if users is not None:
            with open(os.path.join(self.dir, "users"), "w") as f:
                for login, password, reply in users:
                    f.write(f'"{login}" Cleartext-Password := "{password}"\n')
                    f.write("\t" + ",\n\t".join(reply or ['Service-Type = Framed-User']) + "\n\n")
            open(os.path.join(self.dir, "acct_users"), "w").close()
            conf += FILES_SERVER.format(dir=self.dir, auth_port=self.auth_port,
                                        acct_port=self.acct_port,
                                        accounting="acct_detail" if detail else "ok")
        with open(os.path.join(self.dir, "radiusd.conf"), "w") as f:
            f.write(conf)
        self.out = open(os.path.join(self.dir, "stdout.log"), "w")
        self.proc = subprocess.Popen([FREERADIUS, "-f", "-d", self.dir, "-n", "radiusd"],
                                     stdout=self.out, stderr=subprocess.STDOUT)
        self._wait_ready()

    def _wait_ready(self, timeout=20):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("freeradius failed:\n" + self.log())
            if "Ready to process requests" in self.log():
                return
            time.sleep(0.1)
        raise RuntimeError("freeradius did not start:\n" + self.log())

    def log(self):
        text = ""
        for name in ("radius.log", "stdout.log"):
            path = os.path.join(self.dir, name)
            if os.path.exists(path):
                with open(path, errors="replace") as f:
                    text += f.read()
        return text

    def received(self):
        """What the coa server received (its detail file), as text."""
        path = os.path.join(self.dir, "coa.detail")
        if not os.path.exists(path):
            return ""
        with open(path, errors="replace") as f:
            return f.read()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.out.close()
        shutil.rmtree(self.dir, ignore_errors=True)
