"""A local SMTP sink (aiosmtpd): the demo's mail server under ``make run``
(``portmonet notify-sink``, letters kept in a maildir to read), the
tests' real SMTP peer and the bench's.  It counts letters by Message-ID,
so a test can tell a letter that came twice, and refuses recipients
whose address starts with ``refuse`` (an undeliverable address: 550)."""
import collections
import email
import email.policy
import mailbox
import os
import threading


class Sink:
    def __init__(self, maildir=None, keep=True, delay=0.0, hold_after=None):
        self.delay = delay                   # seconds per letter (a slow server, for tests)
        # hold the RCPT of the next letter after this many, until ``release``
        # is set (a test kills the client while it waits: no letter in doubt)
        self.hold_after = hold_after
        self.holding = threading.Event()
        self.release = threading.Event()
        self.lock = threading.Lock()
        self.ids = collections.Counter()     # Message-ID -> times received
        self.messages = []                   # parsed letters (keep=True)
        self.keep = keep
        if maildir:
            os.makedirs(os.path.dirname(os.path.abspath(maildir)), exist_ok=True)
        self.maildir = mailbox.Maildir(maildir) if maildir else None
        self.received = 0

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.hold_after is not None and self.received >= self.hold_after \
                and not self.release.is_set():
            import asyncio
            self.holding.set()
            while not self.release.is_set():
                await asyncio.sleep(0.01)
        if address.lower().startswith("refuse"):
            return "550 5.1.1 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.delay:
            import asyncio
            await asyncio.sleep(self.delay)
        data = envelope.content
        with self.lock:
            self.received += 1
            if self.keep or self.maildir is not None:
                msg = email.message_from_bytes(data, policy=email.policy.default)
                msg["X-Rcpt-To"] = ", ".join(envelope.rcpt_tos)
                self.ids[msg["Message-ID"]] += 1
                if self.keep:
                    self.messages.append(msg)
                if self.maildir is not None:
                    self.maildir.add(msg)
            else:
                self.ids[_message_id(data)] += 1
        return "250 Message accepted"

    def duplicates(self):
        with self.lock:
            return {k: n for k, n in self.ids.items() if n > 1}


def _message_id(data):
    """The Message-ID of raw headers without parsing the whole letter."""
    head = data.split(b"\r\n\r\n", 1)[0]
    for line in head.split(b"\r\n"):
        if line[:11].lower() == b"message-id:":
            return line[11:].strip().decode()
    return None


def start(host="127.0.0.1", port=0, reuse_port=False, auth=None, tls=None, idle_timeout=300,
          **kw):
    """A running sink on (host, port): returns (controller, sink); port 0
    picks a free one (``controller.port``).  ``reuse_port``: several sink
    processes share the port (the kernel spreads the connections).
    ``auth``: (user, password) the server requires (AUTH PLAIN/LOGIN; in
    the clear on loopback, which only a test does).  ``tls``: an SSL
    context for STARTTLS, which is then required."""
    from aiosmtpd.controller import Controller

    class Shared(Controller):
        def _create_server(self):
            return self.loop.create_server(self._factory_invoker, host=self.hostname,
                                           port=self.port, reuse_port=True)
    sink = Sink(**kw)
    extra = {"timeout": idle_timeout}       # seconds before an idle client is let go
    if auth is not None:
        from aiosmtpd.smtp import AuthResult

        def check(server, session, envelope, mechanism, data):
            ok = (getattr(data, "login", b"") == auth[0].encode()
                  and getattr(data, "password", b"") == auth[1].encode())
            return AuthResult(success=ok, handled=False)   # aiosmtpd answers 535
        extra.update(authenticator=check, auth_required=True, auth_require_tls=tls is not None)
    if tls is not None:
        extra.update(tls_context=tls, require_starttls=True)
    controller = (Shared if reuse_port else Controller)(
        sink, hostname=host, port=port or _free_port(host), data_size_limit=0, **extra)
    controller.start()
    return controller, sink


def _free_port(host):
    import socket
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]
