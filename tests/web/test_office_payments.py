"""The office's payment pages: "Top up" (card / e-money providers, the
payments feature's signed start), scratch-card activation, wallet link."""
import datetime
import urllib.parse

from portmonet import clock
from portmonet.payments.agents import Provider
from portmonet.payments.callback import sign
from portmonet.payments.cards import MAX_FAILURES

from .conftest import csrf_of

SECRET = "office-topup-secret-0123456789abc"
PAY_URL = "http://127.0.0.1:9/pay"
NEXT_YEAR = clock.today() + datetime.timedelta(days=365)


def add_provider(root):
    root["payments"].add_agent(Provider("cardgw", SECRET, pay_url=PAY_URL), root.catalog)


def add_cards(root):
    cards = root["payments"].cards
    _batch, pins = cards.generate("T", 10000, 3, NEXT_YEAR, user="test")
    cards.issue("T", "dealer1")
    return list(pins)


def balance(site, number="1001-1"):
    return site.read(lambda r: r["subscribers"][1001][number].account.balance)


def test_office_links_the_payment_pages(site):
    site.change(add_provider)
    home = site.office_login("ivanov", "inet-pass-1").get("/subscribers/1001/@@office")
    links = {a: home.html.find(id=a)["href"] for a in ("topup", "scratch-card", "wallet")}
    assert links == {"topup": "http://localhost/subscribers/1001/@@office-topup",
                     "scratch-card": "http://localhost/subscribers/1001/@@office-card",
                     "wallet": "http://localhost/subscribers/1001/@@wallet"}
    # No bare forms posting to the payments endpoints any more.
    assert "@@start" not in home.text and "@@activate" not in home.text


def test_top_up_redirects_to_the_signed_payment_page(site):
    site.change(add_provider)
    client = site.office_login("ivanov", "inet-pass-1")
    page = client.get("/subscribers/1001/@@office-topup")
    form = page.forms["form"]
    assert [o[0] for o in form["provider"].options] == ["cardgw"]
    assert [o[0] for o in form["contract"].options] == ["1001-1"]
    form["amount"] = "12,5x"
    assert "form" in form.submit(status=400).forms
    form["amount"] = "250.00"
    res = form.submit(status=302)
    url, query = res.location.split("?", 1)
    fields = dict(urllib.parse.parse_qsl(query))
    assert url == PAY_URL
    account = site.ids["ivanov_account"]
    assert (fields["account"], fields["amount"]) == (account, "250.00")
    assert fields["return"].startswith("http://localhost/payments/cardgw/return?order=")
    signed = query.rsplit("&sig=", 1)[0].encode()
    assert fields["sig"] == sign(SECRET, fields["ts"], fields["order"], signed)


def test_top_up_refuses_foreign_contracts_and_missing_csrf(site):
    site.change(add_provider)
    client = site.office_login("ivanov", "inet-pass-1")
    token = csrf_of(client.get("/subscribers/1001/@@office-topup"))
    res = client.post("/subscribers/1001/@@office-topup",
                      {"csrf_token": token, "provider": "cardgw", "contract": "1002-1",
                       "amount": "10.00"}, expect_errors=True)
    assert res.status_int == 400 and "Not a valid choice" in res.text
    res = client.post("/subscribers/1001/@@office-topup",
                      {"provider": "cardgw", "contract": "1001-1", "amount": "10.00"},
                      expect_errors=True)
    assert res.status_int in (400, 403)
    for url in ("/subscribers/1002/@@office-topup", "/subscribers/1002/@@office-card"):
        assert client.get(url, expect_errors=True).status_int == 403
        assert client.post(url, {"csrf_token": token, "contract": "1002-1", "serial": "1" * 12,
                                 "pin": "1" * 12, "provider": "cardgw", "amount": "1.00"},
                           expect_errors=True).status_int == 403


def test_top_up_without_providers_is_not_found(site):
    client = site.office_login("ivanov", "inet-pass-1")
    assert client.get("/subscribers/1001/@@office-topup", expect_errors=True).status_int == 404
    home = client.get("/subscribers/1001/@@office")
    assert home.html.find(id="topup") is None and home.html.find(id="scratch-card")


def test_scratch_card_good_then_used(site):
    (serial, pin), *_ = site.change(add_cards)
    client = site.office_login("ivanov", "inet-pass-1")
    form = client.get("/subscribers/1001/@@office-card").forms["form"]
    form["serial"], form["pin"] = serial, pin
    done = form.submit(status=302).follow()
    assert "Card activated: 100.00 credited, the balance is 600.00" in done.text
    assert balance(site) == 60000
    # The same card again: refused clearly, nothing credited.
    form = done.forms["form"]
    form["serial"], form["pin"] = serial, pin
    res = form.submit(status=400)
    assert "this card is activated" in res.text and balance(site) == 60000


def test_scratch_card_wrong_pin_then_lockout(site):
    (serial, pin), *_ = site.change(add_cards)
    client = site.office_login("ivanov", "inet-pass-1")
    form = client.get("/subscribers/1001/@@office-card").forms["form"]
    form["serial"], form["pin"] = serial, "12"                      # not a PIN at all
    assert "the PIN is the digits" in form.submit(status=400).text
    for n in range(MAX_FAILURES):
        form["serial"], form["pin"] = serial, f"{n:012d}"
        res = form.submit(status=400)
        assert "wrong card number or PIN" in res.text
        form = res.forms["form"]
    # Locked out now (payments.cards counts the wrong tries): even the right PIN.
    form["serial"], form["pin"] = serial, pin
    res = form.submit(status=429)
    assert "try again later" in res.text
    assert balance(site) == 50000
    assert site.read(lambda r: r["payments"].cards.by_serial[serial].status) == "issued"


def test_scratch_card_missing_csrf_and_foreign_contract(site):
    (serial, pin), *_ = site.change(add_cards)
    client = site.office_login("ivanov", "inet-pass-1")
    res = client.post("/subscribers/1001/@@office-card",
                      {"contract": "1001-1", "serial": serial, "pin": pin}, expect_errors=True)
    assert res.status_int in (400, 403)
    token = csrf_of(client.get("/subscribers/1001/@@office-card"))
    res = client.post("/subscribers/1001/@@office-card",
                      {"csrf_token": token, "contract": "1002-1", "serial": serial, "pin": pin},
                      expect_errors=True)
    assert res.status_int == 400 and "Not a valid choice" in res.text
    assert balance(site) == 50000
    assert site.read(lambda r: r["payments"].cards.by_serial[serial].status) == "issued"


def test_office_payment_pages_in_russian(site):
    site.change(add_provider)
    client = site.office_login("ivanov", "inet-pass-1")
    ru = {"Accept-Language": "ru-RU,ru;q=0.9"}
    home = client.get("/subscribers/1001/@@office", headers=ru)
    assert home.html.find(id="topup").text == "Пополнить счёт"
    assert home.html.find(id="wallet").text == "Электронный кошелёк"
    page = client.get("/subscribers/1001/@@office-card", headers=ru)
    assert "Номер карты" in page.text


def test_a_stranger_guessing_pins_does_not_lock_the_owner_out(site):
    """Wrong PINs for Ivanov's account from another address lock that
    address out, not Ivanov (issue 20: no lock an attacker controls)."""
    (serial, pin), *_ = site.change(add_cards)
    stranger = site.office_login("ivanov", "inet-pass-1", client=site.client())
    stranger.extra_environ["REMOTE_ADDR"] = "198.51.100.77"
    form = stranger.get("/subscribers/1001/@@office-card").forms["form"]
    for n in range(MAX_FAILURES + 1):
        form["serial"], form["pin"] = serial, f"{n:012d}"
        res = form.submit(expect_errors=True)
        form = res.forms["form"]
    assert res.status_int == 429
    owner = site.office_login("ivanov", "inet-pass-1")
    form = owner.get("/subscribers/1001/@@office-card").forms["form"]
    form["serial"], form["pin"] = serial, pin
    form.submit(status=302)
    assert balance(site) == 50000 + 10000        # the card's nominal, credited
