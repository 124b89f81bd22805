"""A small SMPP 3.4 server (an SMSC on loopback), built on smpplib's own
PDU classes: the demo's SMS centre under ``make run`` (``portmonet
notify-smsc``) and the tests' real SMPP peer.  It binds transceivers,
takes submit_sm (answering with a message id), and sends a deliver_sm
delivery receipt for each message.  Numbers starting with 7999 are
refused (invalid destination); ``busy`` answers the next submits with
ESME_RTHROTTLED."""
import itertools
import socket
import socketserver
import struct
import threading

from smpplib import consts as C
from smpplib import smpp


class _Seq:
    def __init__(self):
        self._n = itertools.count(1)
        self.sequence = 0

    def next_sequence(self):
        self.sequence = next(self._n)
        return self.sequence


def _decode(pdu):
    raw = pdu.short_message or b""
    if pdu.data_coding == C.SMPP_ENCODING_ISO10646:
        if pdu.esm_class & C.SMPP_GSMFEAT_UDHI:
            raw = raw[raw[0] + 1:]
        return raw.decode("utf-16-be")
    if pdu.esm_class & C.SMPP_GSMFEAT_UDHI:
        raw = raw[raw[0] + 1:]
    return raw.decode("latin-1")


class SMSC:
    def __init__(self, host="127.0.0.1", port=0, log=None):
        self.log = log                # called with (destination, text) of each message
        self.received = []          # (destination, text, message id)
        self.binds = []             # (system_id, password)
        self.busy = 0               # answer this many submits with "throttled"
        self.receipt_state = "DELIVRD"
        self.lock = threading.Lock()
        self._ids = itertools.count(1000)
        smsc = self

        class Handler(socketserver.BaseRequestHandler):
            def handle(self):
                smsc._serve(self.request)

        socketserver.ThreadingTCPServer.allow_reuse_address = True
        self.server = socketserver.ThreadingTCPServer((host, port), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()

    def _serve(self, sock):
        seq = _Seq()

        def send(pdu, answers=None):
            if answers is not None:
                pdu.sequence = answers.sequence     # a response carries its request's number
            sock.sendall(pdu.generate())

        while True:
            head = _read(sock, 4)
            if not head:
                return
            (length,) = struct.unpack(">L", head)
            raw = head + _read(sock, length - 4)
            pdu = smpp.parse_pdu(raw, client=seq, allow_unknown_opt_params=True)
            if pdu.command == "bind_transceiver":
                self.binds.append((pdu.system_id, pdu.password))
                send(smpp.make_pdu("bind_transceiver_resp", client=seq, system_id="testsmsc"), pdu)
            elif pdu.command == "submit_sm":
                self._submit(pdu, seq, send)
            elif pdu.command == "enquire_link":
                send(smpp.make_pdu("enquire_link_resp", client=seq), pdu)
            elif pdu.command == "unbind":
                send(smpp.make_pdu("unbind_resp", client=seq), pdu)
                return

    def _submit(self, pdu, seq, send):
        dest = pdu.destination_addr.decode() if isinstance(pdu.destination_addr, bytes) \
            else pdu.destination_addr
        with self.lock:
            if self.busy:
                self.busy -= 1
                status = C.SMPP_ESME_RTHROTTLED
            elif dest.startswith("7999"):
                status = C.SMPP_ESME_RINVDSTADR
            else:
                status = C.SMPP_ESME_ROK
        if status:
            send(smpp.make_pdu("submit_sm_resp", client=seq, status=status, message_id=""), pdu)
            return
        mid = str(next(self._ids))
        text = _decode(pdu)
        with self.lock:
            self.received.append((dest, text, mid))
        if self.log is not None:
            self.log(dest, text)
        send(smpp.make_pdu("submit_sm_resp", client=seq, message_id=mid), pdu)
        text = (f"id:{mid} sub:001 dlvrd:001 submit date:2612041200 done date:2612041200 "
                f"stat:{self.receipt_state} err:000 text:").encode()
        send(smpp.make_pdu("deliver_sm", client=seq, source_addr=dest,
                           destination_addr="Portmonet", esm_class=C.SMPP_MSGMODE_DEFAULT | 0x04,
                           short_message=text, data_coding=0))

    def texts(self):
        with self.lock:
            return list(self.received)


def _read(sock, n):
    parts = []
    while n:
        try:
            chunk = sock.recv(n)
        except (ConnectionError, socket.timeout):
            return b""
        if not chunk:
            return b""
        parts.append(chunk)
        n -= len(chunk)
    return b"".join(parts)
