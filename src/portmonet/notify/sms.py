"""SMS: over SMPP 3.4 (smpplib, a transceiver bind that also takes the
delivery receipts) or over an HTTP gateway (a URL and a JSON body template).

A refusal the gateway calls permanent (a bad number) goes to the dead
letters; a busy gateway, a lost connection or a timeout is tried again.
"""
import json
import logging
import re
import select
import socket
import string
import urllib.error
import urllib.request

import smpplib.client
import smpplib.consts as C
import smpplib.exceptions
import smpplib.gsm
from smpplib import smpp

from .compose import Outcome

log = logging.getLogger(__name__)

# submit_sm_resp statuses worth trying again: the SMSC is busy or down.
TRANSIENT = {C.SMPP_ESME_RTHROTTLED, C.SMPP_ESME_RMSGQFUL, C.SMPP_ESME_RSYSERR,
             C.SMPP_ESME_RSUBMITFAIL, 0x00000064}  # 0x64: ESME_RX_T_APPN (temporary)
RECEIPT = re.compile(rb"id:(?P<id>\S+).*?stat:(?P<stat>\w+)", re.S)


def _text(value):
    return value.decode("latin-1") if isinstance(value, bytes) else str(value or "")


class SmppSender:
    gateway = "smpp"

    def __init__(self, settings):
        self.s = settings
        self.client = None
        self.receipts = []           # (message id, stat) read so far

    def _connect(self):
        s = self.s
        client = smpplib.client.Client(s.smpp_host, s.smpp_port, timeout=s.smpp_timeout,
                                       allow_unknown_opt_params=True,
                                       logger_name="portmonet.notify.smpplib")
        client.connect()
        try:
            client.bind_transceiver(system_id=s.smpp_system_id, password=s.smpp_password,
                                    system_type=s.smpp_system_type)
        except Exception:
            client.disconnect()
            raise
        log.info("SMPP bound to %s:%s as %s", s.smpp_host, s.smpp_port, s.smpp_system_id)
        return client

    def close(self):
        if self.client is not None:
            try:
                self.client.unbind()
            except Exception:
                pass
            try:
                self.client.disconnect()
            except Exception:
                pass
            self.client = None

    def send(self, envelope):
        try:
            if self.client is None:
                self.client = self._connect()
            return self._submit(envelope)
        except (smpplib.exceptions.ConnectionError, smpplib.exceptions.PDUError,
                OSError) as exc:
            self.close()
            return Outcome("failed", f"SMPP {type(exc).__name__}: {exc}")

    def _submit(self, envelope):
        parts, coding, esm_class = smpplib.gsm.make_parts(envelope.text)
        sender = self.s.sms_sender
        ids = []
        for part in parts:
            pdu = smpp.make_pdu(
                "submit_sm", client=self.client,
                source_addr_ton=C.SMPP_TON_INTL if sender.isdigit() else C.SMPP_TON_ALNUM,
                source_addr_npi=C.SMPP_NPI_ISDN, source_addr=sender,
                dest_addr_ton=C.SMPP_TON_INTL, dest_addr_npi=C.SMPP_NPI_ISDN,
                destination_addr=envelope.to.lstrip("+"), short_message=part,
                data_coding=coding, esm_class=esm_class, registered_delivery=1)
            self.client.send_pdu(pdu)
            resp = self._answer(pdu.sequence)
            if resp.status:
                kind = "failed" if resp.status in TRANSIENT else "given-up"
                done = f" after {len(ids)} of {len(parts)} parts" if ids else ""
                return Outcome(kind, f"SMPP status 0x{resp.status:02x} "
                                     f"{C.DESCRIPTIONS.get(resp.status, '')}{done}".strip())
            ids.append(_text(resp.message_id))
        return Outcome("sent", "SMSC id " + ",".join(ids), ext_id=ids)

    def _answer(self, sequence):
        while True:
            pdu = self.client.read_pdu()
            if pdu.command in ("submit_sm_resp", "generic_nack") and pdu.sequence == sequence:
                return pdu
            self._other(pdu)

    def _other(self, pdu):
        if pdu.command == "deliver_sm":
            self._receipt(pdu)
            resp = smpp.make_pdu("deliver_sm_resp", client=self.client)
            resp.sequence = pdu.sequence
            self.client.send_pdu(resp)
        elif pdu.command == "enquire_link":
            resp = smpp.make_pdu("enquire_link_resp", client=self.client)
            resp.sequence = pdu.sequence
            self.client.send_pdu(resp)

    def _receipt(self, pdu):
        found = RECEIPT.search(pdu.short_message or b"")
        ext_id = _text(getattr(pdu, "receipted_message_id", None)) or (
            _text(found.group("id")) if found else "")
        stat = _text(found.group("stat")) if found else str(getattr(pdu, "message_state", ""))
        if ext_id:
            self.receipts.append((ext_id, stat))

    def take_receipts(self, wait=0.0):
        """The receipts that arrived (reading what waits on the socket)."""
        if self.client is not None:
            try:
                while select.select([self.client._socket], [], [], wait)[0]:
                    wait = 0
                    self._other(self.client.read_pdu())
            except (smpplib.exceptions.ConnectionError, smpplib.exceptions.PDUError,
                    OSError, ValueError):
                self.close()
        out, self.receipts = self.receipts, []
        return out


def _fill(template, values):
    """The JSON body template with ${name} put into its strings: the values
    go in as data, never as JSON text, so a message cannot change its shape."""
    if isinstance(template, str):
        return string.Template(template).safe_substitute(values)
    if isinstance(template, list):
        return [_fill(item, values) for item in template]
    if isinstance(template, dict):
        return {key: _fill(item, values) for key, item in template.items()}
    return template


class HttpSmsSender:
    gateway = "http"

    def __init__(self, settings):
        self.s = settings

    def close(self):
        pass

    def take_receipts(self, wait=0.0):
        return []        # the HTTP gateway calls back (views/receipts.py)

    def send(self, envelope):
        s = self.s
        body = _fill(s.http_body, {"to": envelope.to, "text": envelope.text,
                                   "sender": s.sms_sender, "ref": envelope.key})
        request = urllib.request.Request(s.http_url, data=json.dumps(body).encode(),
                                         method="POST",
                                         headers={"Content-Type": "application/json"})
        if s.http_auth:
            request.add_header("Authorization", s.http_auth)
        try:
            with urllib.request.urlopen(request, timeout=s.http_timeout) as response:
                raw = response.read(65536)
        except urllib.error.HTTPError as exc:
            permanent = 400 <= exc.code < 500 and exc.code not in (408, 429)
            return Outcome("given-up" if permanent else "failed", f"HTTP {exc.code} {exc.reason}")
        except (urllib.error.URLError, socket.timeout, TimeoutError, OSError) as exc:
            return Outcome("failed", f"HTTP gateway: {getattr(exc, 'reason', exc)}")
        try:
            ext_id = json.loads(raw or b"{}").get(s.http_id_field)
        except (ValueError, AttributeError):
            ext_id = None
        return Outcome("sent", f"HTTP gateway id {ext_id}" if ext_id else "HTTP gateway accepted",
                       ext_id=[ext_id] if ext_id else None)


def sender(settings):
    return HttpSmsSender(settings) if settings.sms_gateway == "http" else SmppSender(settings)
