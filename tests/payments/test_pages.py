"""The payments HTML pages through the real WSGI application (WebTest):
payment agents (list, add, disable) and the e-wallet (staff and office);
every role on every page."""
import urllib.parse

import pytest

from portmonet.model.staff import ROLES
from portmonet.payments.agents import OsmpAgent
from portmonet.web.acl import ROLE_PERMISSIONS
from portmonet.outbox import unseal

from web.conftest import assert_pages_for_role, cheap_argon2, csrf_of, site  # noqa: F401,E402  (fixtures)

PAGES = [
    ("/payments/@@agents", "view_payments"),
    ("/payments/@@agents-add", "manage_agents"),
    ("/subscribers/1001/@@wallet-ledger", "view_payments"),
    ("/subscribers/1001/@@wallet", "office"),
]
# Pages whose allowed answer is not 200 (no such receipt / transfer): 400.
REFUSED_INPUT = [
    ("/payments/cashdesk/receipt.pdf?no=none", "take_payment"),
    ("/subscribers/1001/@@wallet-confirm?ref=none", "office"),
]


@pytest.fixture
def agents_site(site):  # noqa: F811
    site.change(lambda root: root["payments"].add_agent(
        OsmpAgent("qiwi", ["127.0.0.1"], "term", "terminal-pass-1"), root.catalog))
    return site


@pytest.mark.parametrize("role", ROLES)
def test_role_matrix_of_the_payments_pages(agents_site, role):
    client = agents_site.login(role)
    allowed = set(ROLE_PERMISSIONS[role])
    assert_pages_for_role(client, role, PAGES)
    assert_pages_for_role(client, role, REFUSED_INPUT, allowed_status=400)
    token = csrf_of(client.get("/search?q=x", expect_errors=True))
    res = client.post("/payments/qiwi/@@disable", {"csrf_token": token}, expect_errors=True)
    assert res.status_int == (302 if "manage_agents" in allowed else 403), (role, res.status)
    assert agents_site.read(lambda root: root["payments"]["qiwi"].active) is \
        ("manage_agents" not in allowed)


def test_office_session_sees_only_its_own_wallet(agents_site):
    client = agents_site.office_login("ivanov", "inet-pass-1")
    assert client.get("/subscribers/1001/@@wallet").status_int == 200
    for url, _ in PAGES:
        if url != "/subscribers/1001/@@wallet":
            assert client.get(url, expect_errors=True).status_int == 403, url
    assert client.get("/subscribers/1002/@@wallet", expect_errors=True).status_int == 403


def test_anonymous_gets_no_payments_page(agents_site):
    client = agents_site.client()
    for url, _ in PAGES:
        res = client.get(url, expect_errors=True)
        assert res.status_int in (302, 403), (url, res.status)
        assert "Payment agents" not in res.text and "wallet-balance" not in res.text


def test_administrator_adds_an_osmp_agent_with_allow_list_and_credentials(agents_site):
    client = agents_site.login("administrator")
    page = client.get("/payments/@@agents-add")
    form = page.forms["form"]
    form["name"] = "cyberplat"
    form["protocol"] = "osmp"
    form["allow"] = "203.0.113.0/24\n198.51.100.7"
    form["login"] = "cp"
    form["password"] = "cp-password-1"
    res = form.submit(status=302)
    listing = res.follow()
    assert "cyberplat" in listing.text and "203.0.113.0/24" in listing.text

    def look(root):
        agent = root["payments"]["cyberplat"]
        return (agent.allow, agent.login, agent.password_hash.startswith("$argon2"),
                agent.check_credentials("cp", "cp-password-1"), agent.account is not None)
    assert agents_site.read(look) == (("203.0.113.0/24", "198.51.100.7/32"), "cp", True, True, True)


@pytest.mark.parametrize("fields,field,message", [
    ({"name": "Bad Name!", "allow": "127.0.0.1"}, "name", "lower-case"),
    ({"name": "ok1", "allow": "300.1.1.1"}, "allow", "not an IP"),
    ({"name": "ok2", "allow": ""}, "allow", "at least one"),
    ({"name": "ok3", "allow": "127.0.0.1", "login": "x"}, "password", "needs a password"),
    ({"name": "qiwi", "allow": "127.0.0.1"}, "name", "exists"),
    ({"name": "cb", "protocol": "callback"}, "secret", "needs a secret"),
    ({"name": "cb", "protocol": "callback", "secret": "short"}, "secret", "at least 16"),
])
def test_agent_form_refuses_bad_input_and_changes_nothing(agents_site, fields, field, message):
    client = agents_site.login("administrator")
    form = client.get("/payments/@@agents-add").forms["form"]
    for name, value in dict({"protocol": "osmp"}, **fields).items():
        form[name] = value
    res = form.submit(status=400)
    assert message in res.text
    assert agents_site.read(lambda root: sorted(root["payments"].keys())) == ["qiwi"]


def test_forms_without_csrf_token_are_refused(agents_site):
    client = agents_site.login("administrator")
    res = client.post("/payments/qiwi/@@disable", {}, expect_errors=True)
    assert res.status_int == 400
    res = client.post("/payments/@@agents-add", {"name": "x1", "protocol": "osmp",
                                                  "allow": "127.0.0.1"}, expect_errors=True)
    assert res.status_int == 400
    assert agents_site.read(lambda root: (root["payments"]["qiwi"].active,
                                          sorted(root["payments"].keys()))) == (True, ["qiwi"])


def test_disabled_agent_is_refused_and_enabled_again(agents_site):
    client = agents_site.login("administrator")
    token = csrf_of(client.get("/payments/@@agents"))
    client.post("/payments/qiwi/@@disable", {"csrf_token": token}, status=302)
    osmp = agents_site.client()
    osmp.authorization = ("Basic", ("term", "terminal-pass-1"))
    res = osmp.get("/payments/qiwi/osmp", {"command": "check", "txn_id": "1",
                                           "account": "ivanov", "sum": "10.00"})
    assert "<result>8</result>" in res.text and "agent disabled" in res.text
    client.post("/payments/qiwi/@@enable", {"csrf_token": token}, status=302)
    res = osmp.get("/payments/qiwi/osmp", {"command": "check", "txn_id": "2",
                                           "account": "ivanov", "sum": "10.00"})
    assert "<result>0</result>" in res.text


def _sms_code(site, ref):  # noqa: F811
    return site.read(lambda root: unseal(root.outbox.keys[f"transfer-code:{ref}"].payload)["code"])


def test_office_wallet_open_transfer_own_and_to_another_with_confirmation(agents_site):
    site = agents_site  # noqa: F811
    ids = site.ids
    client = site.office_login("ivanov", "inet-pass-1")
    page = client.get("/subscribers/1001/@@wallet")
    assert "No wallet yet" in page.text
    page = client.post("/subscribers/1001/@@wallet",
                       {"csrf_token": csrf_of(page), "action": "open"}).follow()
    wallet_no = site.read(lambda root: root["payments"].wallets.by_subscriber[1001])
    assert wallet_no in page.text
    # Own accounts: from the contract's account (500.00) into the wallet, at once.
    form = page.forms["form"]
    form["source"] = ids["ivanov_account"]
    form["target"] = wallet_no
    form["amount"] = "120.00"
    page = form.submit(status=302).follow()
    assert site.read(lambda root: (root.catalog.accounts.get(wallet_no).balance,
                                   root.catalog.accounts.get(ids["ivanov_account"]).balance)) \
        == (12000, 38000)
    # More than the wallet holds: refused, nothing moves.
    form = page.forms["form"]
    form["source"] = wallet_no
    form["target"] = ids["ivanov_account"]
    form["amount"] = "999.00"
    assert "available" in form.submit(status=400).text
    # To another subscriber: waits for the payer's code.
    petrov_account = site.read(
        lambda root: root.catalog.contracts.get(ids["petrov_contract"]).account.number)
    form["target"] = petrov_account
    form["amount"] = "20.00"
    res = form.submit(status=302)
    ref = urllib.parse.unquote(res.location.split("ref=")[1])
    confirm = res.follow()
    assert site.read(lambda root: root.catalog.accounts.get(petrov_account).balance) == 0
    bad = confirm.forms["form"]
    bad["code"] = "000000" if _sms_code(site, ref) != "000000" else "111111"
    assert "wrong confirmation code" in bad.submit(status=400).text
    good = client.get(res.location).forms["form"]
    good["code"] = _sms_code(site, ref)
    good.submit(status=302)
    assert site.read(lambda root: (root.catalog.accounts.get(wallet_no).balance,
                                   root.catalog.accounts.get(petrov_account).balance)) \
        == (10000, 2000)
    # Another subscriber cannot confirm (or see) it.
    other = site.client()
    assert other.get(res.location, expect_errors=True).status_int in (302, 403)


def test_office_cannot_spend_from_another_subscribers_account(agents_site):
    site = agents_site  # noqa: F811
    client = site.office_login("ivanov", "inet-pass-1")
    page = client.get("/subscribers/1001/@@wallet")
    res = client.post("/subscribers/1001/@@wallet", {
        "csrf_token": csrf_of(page), "source": "0010021011", "target": site.ids["ivanov_account"],
        "amount": "1.00"}, expect_errors=True)
    assert res.status_int == 400
    assert site.read(lambda root: root.catalog.accounts.get(site.ids["ivanov_account"]).balance) \
        == 50000


def test_staff_sees_the_wallet_balance_and_ledger(agents_site):
    site = agents_site  # noqa: F811

    def setup(root):
        from portmonet.payments.wallet import transfer_own
        sub = root["subscribers"][1001]
        wallet = root["payments"].wallets.open(root, sub)
        transfer_own(sub["1001-1"].account, wallet, 4200, "test")
        return wallet.number
    number = site.change(setup)
    page = site.login("auditor").get("/subscribers/1001/@@wallet-ledger")
    assert number in page.text and "42.00" in page.text and "transfer" in page.text
