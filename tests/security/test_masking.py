"""portmonet.masking: secrets masked in every body type and in log records."""
import logging
import time

import pytest

from portmonet.masking import install_log_masking, mask_bytes, mask_text

SECRET = "s3cr3t-value"


@pytest.mark.parametrize("text,kept", [
    (f"command=pay&password={SECRET}&sum=1", "command=pay&password=***&sum=1"),
    (f"pin={SECRET}", "pin=***"),
    (f"a=1&csrf_token={SECRET}&new_password={SECRET}", "a=1&csrf_token=***&new_password=***"),
    (f"x=1;pwd={SECRET}", "x=1;pwd=***"),
    (f"retry with PASSWORD={SECRET} now", "retry with PASSWORD=*** now"),
    (f'{{"pin": "{SECRET}", "amount": "1.00"}}', '{"pin": "***", "amount": "1.00"}'),
    (f'{{"card": {{"pan": "{SECRET}", "cvv": 123}}}}', '{"card": {"pan": "***", "cvv": "***"}}'),
    (f'{{"cardNumber":"{SECRET}","apiKey":"{SECRET}"}}', '{"cardNumber":"***","apiKey":"***"}'),
    (f'{{"password": "a\\"{SECRET}"}}', '{"password": "***"}'),
    (f"<r><pin>{SECRET}</pin><sum>1</sum></r>", "<r><pin>***</pin><sum>1</sum></r>"),
    (f"<r><ns:Password a='1'>{SECRET}</ns:Password></r>",
     "<r><ns:Password a='1'>***</ns:Password></r>"),
    (f'<card secret="{SECRET}" cvv2=\'{SECRET}\'/>', '<card secret="***" cvv2="***"/>'),
    (f'--B\r\nContent-Disposition: form-data; name="pin"\r\nContent-Type: text/plain\r\n\r\n'
     f'{SECRET}\r\n{SECRET}\r\n--B\r\nContent-Disposition: form-data; name="n"\r\n\r\n5\r\n--B--',
     '--B\r\nContent-Disposition: form-data; name="pin"\r\nContent-Type: text/plain\r\n\r\n'
     '***\r\n--B\r\nContent-Disposition: form-data; name="n"\r\n\r\n5\r\n--B--'),
    (f"snmp community={SECRET}", "snmp community=***"),
])
def test_secret_fields_are_masked_in_every_spelling(text, kept):
    assert mask_text(text) == kept
    assert SECRET.encode() not in mask_bytes(text.encode())


@pytest.mark.parametrize("text", ["shipping=1&spin=2&passing=3&pinata=4&company=5&japan=6",
                                  '{"amount": "1.00", "id": "p1"}', "<sum>150.00</sum>",
                                  "txn_id=1&account=0000001018"])
def test_other_fields_are_kept(text):
    assert mask_text(text) == text


def test_bytes_that_are_not_utf8_are_masked_too():
    data = b"\xff\xfe pin=" + SECRET.encode() + b"&x=\xff"
    assert SECRET.encode() not in mask_bytes(data) and mask_bytes(data).startswith(b"\xff\xfe")


@pytest.mark.parametrize("junk", [
    "a" * 65536, "a_" * 32768, " a_a_a_aaaa" * 6000, '"a_a_":' * 9000, "<a_a_a>" * 9000,
    "password=" * 7000, 'Content-Disposition: form-data; name="pin"\r\n' * 1400, "\n" * 65536])
def test_masking_is_linear_on_hostile_input(junk):
    """No regular expression backtracks badly on 64 KiB (the journal's
    bound): a generous limit that only a quadratic pattern would break."""
    start = time.perf_counter()
    mask_text(junk)
    assert time.perf_counter() - start < 2.0


def test_log_records_are_masked(caplog):
    install_log_masking()
    log = logging.getLogger("portmonet.test.masking")
    with caplog.at_level(logging.INFO):
        log.info("login=%s password=%s", "ivan", SECRET)
        try:
            raise ValueError(f"bad pin={SECRET}")
        except ValueError:
            log.exception("failed with pin=%s", SECRET)
    text = caplog.text
    assert "login=ivan password=***" in text and "ValueError: bad pin=***" in text
    assert SECRET not in text
