"""The notifications pages through the real WSGI app (WebTest): roles,
CSRF, the office inbox, the template editor with its preview, the dead
letters, mass mailings and the SMS gateway's report callback."""
import json

import pytest

from portmonet.notify import texts
from portmonet.outbox import queue_notice

from web.conftest import assert_pages_for_role, cheap_argon2, csrf_of, site  # noqa: F401


def test_pages_by_role(site):
    from portmonet.model.staff import ROLES
    pages = [("/notify/", "view_notifications"), ("/notify/@@templates", "manage_templates"),
             ("/notify/@@template?event=blocked&channel=mail&lang=en", "manage_templates"),
             ("/notify/@@mailings", "send_mailings"), ("/notify/@@mailing-new", "send_mailings")]
    for role in ROLES:
        assert_pages_for_role(site.login(role), role, pages)


def test_office_inbox_unread_count_and_mark_read(site):
    ids = site.ids

    def queue(root):
        ivanov = root["subscribers"][ids["ivanov"]]
        box = root["notify"].inbox(ivanov.id, create=True)
        box.deliver("k1", "blocked", "Blocked <b>for debt</b>", "Contract 1 is blocked", 1 << 40)
        box.deliver("k2", "unblocked", "Unblocked", "Contract 1 is active", 2 << 40)
        from portmonet.crypto import hash_password
        ivanov.office_password_hash = hash_password("office-pw-1")
    site.change(queue)
    client = site.office_login("ivanov", "office-pw-1")
    home = client.get(f"/subscribers/{ids['ivanov']}/@@office")
    assert home.html.find(id="unread-count").text == "2"
    inbox = home.click(href="@@office-inbox")
    assert inbox.html.find(id="unread").text == "2"
    assert "Blocked &lt;b&gt;for debt&lt;/b&gt;" in inbox.text           # escaped
    inbox.forms[f"read-{2 << 40}"].submit(status=302)
    again = client.get(f"/subscribers/{ids['ivanov']}/@@office-inbox")
    assert again.html.find(id="unread").text == "1"
    # marking read needs the CSRF token
    client.post(f"/subscribers/{ids['ivanov']}/@@office-inbox-read", {"slot": str(1 << 40)},
                status=400)
    assert site.read(lambda root: root["notify"].unread_of(ids["ivanov"])) == 1
    # another subscriber's inbox is not theirs to read
    client = site.office_login("ivanov", "office-pw-1")
    client.get(f"/subscribers/{ids['petrov']}/@@office-inbox", status=403)


def test_office_notification_settings(site):
    ids = site.ids

    def pw(root):
        from portmonet.crypto import hash_password
        root["subscribers"][ids["petrov"]].office_password_hash = hash_password("office-pw-2")
    site.change(pw)
    client = site.office_login("petrov", "office-pw-2")
    page = client.get(f"/subscribers/{ids['petrov']}/@@office-notifications")
    form = page.forms["form"]
    form["notify_marketing"] = False
    form["notify_language"] = "en"
    form["quiet_hours"] = "25:00-07:00"
    assert form.submit(expect_errors=True).status_int == 400
    form["quiet_hours"] = "23:00-07:30"
    form.submit(status=302)
    got = site.read(lambda root: root["subscribers"][ids["petrov"]])
    assert (got.notify_marketing, got.notify_language, got.quiet_hours) == (False, "en",
                                                                          "23:00-07:30")


def test_template_editor_preview_save_reset(site):
    ids = site.ids
    admin = site.login("administrator")
    url = "/notify/@@template?event=blocked&channel=mail&lang=en"
    page = admin.get(url)
    assert "{{ credit_limit }}" in page.text                 # the variables are listed
    form = page.forms["form"]
    form["subject"] = "Blocked {{ contract }}"
    form["text"] = "Dear {{ name }}, pay {{ balance }}"
    form["html"] = "<p>{{ name }}</p>"
    form["preview"] = str(ids["ivanov"])
    shown = form.submit("do", value="preview")
    assert shown.html.find(id="preview-subject").text == f"Blocked {ids['ivanov_contract']}"
    assert shown.html.find(id="preview-text").text == "Dear Ivanov Ivan, pay 500.00"
    assert site.read(lambda root: root["notify"].templates.get(("blocked", "mail", "en"))) is None
    # an undefined variable is shown as such in the preview
    form = shown.forms["form"]
    form["text"] = "Dear {{ nosuch }}"
    bad = form.submit("do", value="preview")
    assert "'nosuch' is undefined" in bad.html.find(id="preview-error").text
    # a template that does not compile is refused at save
    form = bad.forms["form"]
    form["text"] = "Dear {{ name "
    refused = form.submit("do", value="save", expect_errors=True)
    assert refused.status_int == 400 and "TemplateSyntaxError" in refused.text
    form = refused.forms["form"]
    form["text"] = "Dear {{ name }}, pay {{ balance }}"
    form.submit("do", value="save", status=302)
    held = site.read(lambda root: texts.exact(root["notify"], "blocked", "mail", "en"))
    assert held.edited and held.subject == "Blocked {{ contract }}"
    admin.get(url).forms["form"].submit("do", value="reset", status=302)
    held = site.read(lambda root: texts.exact(root["notify"], "blocked", "mail", "en"))
    assert not held.edited and "blocked for debt" in held.subject
    # a manager may not edit templates
    site.login("manager").get(url, status=403)


def test_dead_letters_and_send_again(site):
    def dead(root):
        message = root.outbox.queue("mail", "x:1", {"event": "blocked", "to": "a@b.c"})
        message.give_up("SMTP 550 mailbox unavailable")
    site.change(dead)
    admin = site.login("administrator")
    page = admin.get("/notify/")
    assert "SMTP 550 mailbox unavailable" in page.text
    page.forms["retry-x:1"].submit(status=302)
    state = site.read(lambda root: root.outbox.keys["x:1"].state)
    assert state == "queued"
    assert site.login("auditor").get("/notify/").status_int == 200   # sees, cannot retry
    auditor = site.login("auditor")
    csrf = csrf_of(auditor.get("/notify/"))
    auditor.post("/notify/@@retry", {"key": "x:1", "csrf_token": csrf}, status=403)


def test_mass_mailing_preview_send_progress_cancel(site):
    manager = site.login("manager")
    page = manager.get("/notify/@@mailing-new")
    form = page.forms["form"]
    form["title"] = "Maintenance"
    form["channels"] = ["mail", "office"]
    form["debt"] = "payers"
    form["subject"] = "Works on {{ contract }}"
    form["text"] = "Dear {{ name }}, works tonight. <script>"
    shown = form.submit("do", value="preview")
    assert shown.html.find(id="preview-subject").text.startswith("Works on ")
    assert site.read(lambda root: len(root["notify"])) == 0
    started = shown.forms["form"].submit("do", value="send", status=302).follow()
    assert started.html.find(id="state").text == "sending"
    name = site.read(lambda root: list(root["notify"].keys())[0])
    progress = manager.get(f"/notify/{name}/@@progress").json
    assert progress["queued"] == 0 and progress["state"] == "sending"
    started.forms["cancel-form"].submit(status=302)
    assert site.read(lambda root: root["notify"][name].state) == "cancelled"


def test_sms_report_callback(site):
    app = site.app
    app.registry.settings["notify.http_sms.callback_token"] = "cb-token-1"

    def sent(root):
        message = root.outbox.queue("sms", "s:1", {"event": "blocked", "to": "7901"})
        message.sent("HTTP gateway id gw-9")
        root["notify"].receipts[("http", "gw-9")] = "s:1"
    site.change(sent)
    client = site.client()
    body = json.dumps({"id": "gw-9", "status": "DELIVRD"})
    client.post("/notify/sms-report", body, headers={"X-Portmonet-Token": "wrong"},
                content_type="application/json", status=403)
    client.post("/notify/sms-report", json.dumps({"id": "gw-0", "status": "DELIVRD"}),
                headers={"X-Portmonet-Token": "cb-token-1"},
                content_type="application/json", status=404)
    res = client.post("/notify/sms-report", body, headers={"X-Portmonet-Token": "cb-token-1"},
                      content_type="application/json")
    assert res.json == {"ok": True, "delivery": "delivered"}
    assert site.read(lambda root: root.outbox.keys["s:1"].delivery) == "delivered"
