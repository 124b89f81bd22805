"""E-mail through a real SMTP server (aiosmtpd on loopback): what arrives,
in which language, with which parts; refusals, outages, bad templates."""
import email.policy

import pytest

from portmonet.billing.model import Invoice
from portmonet.ledger.account import now_us
from portmonet.notify import sources, texts
from portmonet.notify.mail import SmtpSender
from portmonet.notify.office import OfficeSender
from portmonet.notify.worker import ChannelWorker
from portmonet.outbox import queue_notice

from .conftest import drain, settings


def mail_worker(db, smtp, **extra):
    s = settings(notify__mail__port=smtp.port, **extra)
    return ChannelWorker(db, "mail", SmtpSender(s), s)


def try_with(db, conn, tm, root, **extra):
    """One round of the mail worker with these settings; the one letter's
    message, made due again for the next round."""
    s = settings(**extra)
    drain(ChannelWorker(db, "mail", SmtpSender(s), s), conn, tm)
    tm.begin()
    (message,) = root.outbox.channels["mail"].values()
    state, error = message.state, message.last_error
    if state == "failed":
        message.next_try_us = 0
        tm.commit()
    return state, error


def block_notice(root, contract, when="1"):
    queue_notice(root.outbox, f"debt-block:{contract.number}:{when}", contract.__parent__,
                 {"template": "blocked", "contract": contract.number,
                  "balance": -12345, "credit_limit": 0})


def test_letters_in_each_subscribers_language_with_html_alternative(db, conn, tm, root, people,
                                                                     smtp):
    for contract in people.values():
        block_notice(root, contract)
    tm.commit()
    worker = mail_worker(db, smtp)
    assert drain(worker, conn, tm) == 2           # the third has no e-mail: no letter queued
    by_to = {m["To"]: m for m in smtp.messages}
    assert set(by_to) == {"anna@example.net", "ivan@example.net"}
    anna, ivan = by_to["anna@example.net"], by_to["ivan@example.net"]
    number = people[501].number
    assert anna["Subject"] == f"Contract {number} is blocked for debt"
    assert ivan["Subject"] == f"Договор {people[502].number} заблокирован за долг"
    assert (anna["Content-Language"], ivan["Content-Language"]) == ("en", "ru")
    assert anna["From"] == "billing@isp.example" and anna["X-Rcpt-To"] == "anna@example.net"
    assert anna.get_content_type() == "multipart/alternative"
    text = anna.get_body(("plain",)).get_content()
    html = anna.get_body(("html",)).get_content()
    assert "Dear Anna Smith" in text and "-123.45" in text and "Test ISP" in text
    assert "<b>blocked</b>" in html
    tm.begin()
    mail = root.outbox.channels["mail"]
    assert {m.state for m in mail.values()} == {"sent"}
    assert root.outbox.due("mail") == []
    # once per cause: queueing the same block again makes no second letter
    block_notice(root, people[501])
    tm.commit()
    assert drain(worker, conn, tm) == 0 and len(smtp.messages) == 2


def test_invoice_letter_carries_the_pdf(db, conn, tm, root, people, smtp):
    contract = people[502]
    billing = root["billing"]
    inv = Invoice(number=7, period="2026-11", account=contract.account.number,
                  contract=contract.number, subscriber=502, name="Иван Петров", address="",
                  currency="RUB", issued_us=now_us(), opening=0, closing=-50000, charges=50000,
                  payments=0, other=0, tax=8333, lines=(("Internet", 50000),), usage=())
    key = ("2026-11", contract.account.number)
    billing.invoices[key] = inv
    billing.invoice_numbers[7] = key
    assert sources.invoices(root, root["notify"]) == 1
    assert sources.invoices(root, root["notify"]) == 0      # once
    tm.commit()
    drain(mail_worker(db, smtp), conn, tm)
    (letter,) = smtp.messages
    assert letter["Subject"] == "Счёт 7 за 2026-11"
    assert "К оплате: 500.00 RUB" in letter.get_body(("plain",)).get_content()
    (pdf,) = list(letter.iter_attachments())
    assert pdf.get_filename() == "INV-00000007.pdf"
    assert pdf.get_content_type() == "application/pdf"
    assert pdf.get_content()[:5] == b"%PDF-"


def test_undeliverable_address_goes_to_the_dead_letters_at_once(db, conn, tm, root, people,
                                                                 smtp):
    people[501].__parent__.email = "refuse-me@example.net"
    block_notice(root, people[501])
    tm.commit()
    drain(mail_worker(db, smtp), conn, tm)
    tm.begin()
    (message,) = root.outbox.channels["mail"].values()
    assert message.state == "given-up" and message.attempts == 1
    assert message.last_error.startswith("SMTP 550") and smtp.messages == []


def test_subscriber_without_email_is_skipped_with_the_reason(db, conn, tm, root, people, smtp):
    root.outbox.queue("mail", "payment-received:x1", {
        "template": "payment received", "subscriber": 503, "to": None, "account": "A1",
        "amount": "100.00", "balance": "100.00", "currency": "RUB"})
    tm.commit()
    drain(mail_worker(db, smtp), conn, tm)
    tm.begin()
    message = root.outbox.keys["payment-received:x1"]
    assert (message.state, message.last_error) == ("skipped", "no e-mail address")
    assert smtp.messages == []


def test_server_down_then_up_retries_with_growing_waits(db, conn, tm, root, people, smtp):
    block_notice(root, people[501])
    tm.commit()
    from conftest import free_port
    down = ChannelWorker(db, "mail", SmtpSender(settings(notify__mail__port=free_port())),
                         settings(notify__retry_base=10))
    assert drain(down, conn, tm) == 1
    tm.begin()
    message = root.outbox.keys[f"debt-block:{people[501].number}:1"]
    first_wait = message.next_try_us - now_us()
    assert message.state == "failed" and message.attempts == 1
    assert 7_000_000 < first_wait <= 10_000_000 and "ConnectionRefused" in message.last_error
    message.next_try_us = 0                     # due again
    tm.commit()
    drain(down, conn, tm)
    tm.begin()
    assert message.attempts == 2 and message.next_try_us - now_us() > 15_000_000  # doubled
    message.next_try_us = 0
    tm.commit()
    drain(mail_worker(db, smtp), conn, tm)
    tm.begin()
    assert message.state == "sent" and len(smtp.messages) == 1


def test_undefined_variable_is_a_dead_letter_naming_it(db, conn, tm, root, people, smtp):
    texts.save(root["notify"], "blocked", "mail", "en", "Blocked {{ contract }}",
               "Dear {{ nosuch }}", "", "admin")
    block_notice(root, people[501])
    tm.commit()
    drain(mail_worker(db, smtp), conn, tm)
    tm.begin()
    (message,) = root.outbox.channels["mail"].values()
    assert message.state == "given-up"
    assert "'nosuch' is undefined" in message.last_error and "blocked/mail/en" in message.last_error
    assert smtp.messages == []


def test_injection_is_escaped_and_the_sandbox_refuses_code(db, conn, tm, root, people, smtp):
    anna = people[501].__parent__
    anna.name = "<script>alert(1)</script> & Co"
    block_notice(root, people[501], when="1")
    texts.save(root["notify"], "unblocked", "mail", "en", "{{ name }}",
               "{{ ''.__class__.__mro__[1].__subclasses__() }}", "", "admin")
    queue_notice(root.outbox, "unblock:1", anna, {"template": "unblocked",
                                                  "contract": people[501].number, "balance": 0})
    tm.commit()
    drain(mail_worker(db, smtp), conn, tm)
    (letter,) = smtp.messages
    html = letter.get_body(("html",)).get_content()
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; Co" in html and "<script>" not in html
    assert "<script>alert(1)</script> & Co" in letter.get_body(("plain",)).get_content()
    tm.begin()
    refused = root.outbox.keys["unblock:1"]
    assert refused.state == "given-up" and "SecurityError" in refused.last_error


def test_office_inbox_with_unread_count(db, conn, tm, root, people):
    for contract in people.values():
        block_notice(root, contract)
    tm.commit()
    s = settings()
    worker = ChannelWorker(db, "office", OfficeSender(), s)
    assert drain(worker, conn, tm) == 3
    tm.begin()
    box = root["notify"].inbox(502)
    (slot, item), = box.newest()
    assert item.subject == "Блокировка за долг" and box.unread() == 1
    box.mark_read(slot)
    box.mark_read(slot)
    assert box.unread() == 0
    # a second delivery of the same message (a retried record) adds nothing
    assert not box.deliver(item.key, "blocked", "x", "y", slot)


def test_smtp_login_and_the_password_never_logged(db, conn, tm, root, people, caplog):
    from portmonet.notify import sink as sinkmod
    controller, sink = sinkmod.start(auth=("billing", "Pa55-smtp-secret"))
    try:
        caplog.set_level("DEBUG")
        block_notice(root, people[501])
        tm.commit()
        port = controller.port
        state, error = try_with(db, conn, tm, root, notify__mail__port=port,
                                notify__mail__user="billing", notify__mail__password="wrong")
        assert state == "failed" and "authentication refused (535)" in error
        assert try_with(db, conn, tm, root, notify__mail__port=port, notify__mail__user="billing",
                        notify__mail__password="Pa55-smtp-secret")[0] == "sent"
        assert len(sink.messages) == 1
        good = settings(notify__mail__password="Pa55-smtp-secret")
        assert "Pa55-smtp-secret" not in caplog.text and "Pa55-smtp-secret" not in repr(good)
        assert good.shown()["notify.mail.password"] == "***"
    finally:
        controller.stop()


def _self_signed(folder):
    """A certificate for 127.0.0.1 and its key, made here (cryptography)."""
    import datetime
    import ipaddress
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return str(cert_path), str(key_path)


def test_starttls_with_login_checks_the_servers_certificate(db, conn, tm, root, people,
                                                            tmp_path):
    import ssl
    from portmonet.notify import sink as sinkmod
    cert, key = _self_signed(tmp_path)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    controller, sink = sinkmod.start(auth=("billing", "tls-pass-1"), tls=context)
    try:
        block_notice(root, people[501])
        tm.commit()
        port = controller.port
        state, error = try_with(db, conn, tm, root, notify__mail__port=port)   # no STARTTLS
        assert state == "failed" and "530" in error
        login = {"notify__mail__user": "billing", "notify__mail__password": "tls-pass-1",
                 "notify__mail__security": "starttls", "notify__mail__port": port}
        state, error = try_with(db, conn, tm, root, **login)                     # untrusted
        assert state == "failed" and "CERTIFICATE_VERIFY_FAILED" in error
        assert try_with(db, conn, tm, root, notify__mail__cafile=cert, **login)[0] == "sent"
        assert len(sink.messages) == 1
    finally:
        controller.stop()


def test_a_connection_the_server_let_go_is_opened_again(db, conn, tm, root, people):
    import time
    from portmonet.notify import sink as sinkmod
    controller, sink = sinkmod.start(idle_timeout=0.3)
    try:
        s = settings(notify__mail__port=controller.port)
        worker = ChannelWorker(db, "mail", SmtpSender(s), s)
        block_notice(root, people[501], when="1")
        tm.commit()
        drain(worker, conn, tm)
        time.sleep(0.8)                     # the server closes the idle connection
        block_notice(root, people[502], when="2")
        tm.commit()
        drain(worker, conn, tm)
        tm.begin()
        assert {(m.state, m.attempts) for m in root.outbox.channels["mail"].values()} == {
            ("sent", 0)}
        assert len(sink.messages) == 2
    finally:
        controller.stop()
