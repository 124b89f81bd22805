"""Preferences (channel choices, marketing opt-out, mandatory notices, quiet
hours on the operator's clock), rate limits, and the notices the notifier
makes itself (invoices, promises ending) and mass mailings end to end."""
import datetime

from portmonet import clock
from portmonet.billing.model import Promise
from portmonet.notify import events, mailing as mailings, prefs, sources
from portmonet.notify.mail import SmtpSender
from portmonet.notify.office import OfficeSender
from portmonet.notify.ratelimit import RateLimit
from portmonet.notify.segments import Segment
from portmonet.notify.worker import ChannelWorker
from portmonet.outbox import queue_notice

from .conftest import drain, settings


class Person:
    notify_email = True
    notify_sms = True
    notify_marketing = True
    quiet_hours = ""


def test_choices_marketing_and_mandatory():
    person = Person()
    person.notify_email = False
    low, blocked = events.get("low-balance"), events.get("blocked")
    assert prefs.refusal(person, low, "mail") == "the subscriber turned mail notices off"
    assert prefs.refusal(person, blocked, "mail") is None          # mandatory
    assert prefs.refusal(person, low, "office") is None             # the inbox takes all
    assert prefs.refusal(person, low, "sms") is None
    person.notify_marketing = False
    assert prefs.refusal(person, None, "office", marketing=True) == \
        "the subscriber opted out of marketing"


def test_quiet_hours_on_the_operators_clock(operator_zone):
    operator_zone("Asia/Vladivostok")                # UTC+10
    window = prefs.window(Person(), ((datetime.time(22), datetime.time(8))))
    at = clock.us_of(datetime.datetime(2026, 12, 4, 23, 30, tzinfo=clock.zone()))
    ends = prefs.quiet_until(at, window)
    assert clock.local(ends) == datetime.datetime(2026, 12, 5, 8, 0, tzinfo=clock.zone())
    early = clock.us_of(datetime.datetime(2026, 12, 5, 6, 0, tzinfo=clock.zone()))
    assert clock.local(prefs.quiet_until(early, window)).hour == 8
    noon = clock.us_of(datetime.datetime(2026, 12, 5, 12, 0, tzinfo=clock.zone()))
    assert prefs.quiet_until(noon, window) is None
    person = Person()
    person.quiet_hours = "off"
    assert prefs.window(person, window) is None
    person.quiet_hours = "11:00-13:00"
    assert prefs.quiet_until(noon, prefs.window(person, window)) is not None


def test_rate_limit_spaces_messages():
    now = [0.0]
    slept = []

    def sleep(s):
        slept.append(s)
        now[0] += s
    limit = RateLimit(10, clock=lambda: now[0], sleep=sleep)
    for _ in range(30):
        limit.wait()
    assert abs(now[0] - 2.0) < 0.05          # 10 at once (the burst), then 10 a second
    assert RateLimit(0).wait() == 0.0


def test_opted_out_channel_is_skipped_but_not_the_block(db, conn, tm, root, people, smtp):
    anna = people[501].__parent__
    anna.notify_email = False
    for event in ("low-balance", "blocked"):
        queue_notice(root.outbox, f"{event}:1", anna, {"template": event,
                                                      "contract": people[501].number,
                                                      "balance": 100, "days_left": 2,
                                                      "credit_limit": 0})
    tm.commit()
    s = settings(notify__mail__port=smtp.port)
    drain(ChannelWorker(db, "mail", SmtpSender(s), s), conn, tm)
    tm.begin()
    assert root.outbox.keys["low-balance:1"].state == "skipped"
    assert root.outbox.keys["blocked:1"].state == "sent"
    assert [m["Subject"] for m in smtp.messages] == [
        f"Contract {people[501].number} is blocked for debt"]


def test_promise_ending_is_noticed_once(db, conn, tm, root, people):
    today = clock.today()
    contract = people[502]
    root["billing"].promises[contract.number] = Promise(
        contract=contract.number, amount=30000, taken=today,
        until=today + datetime.timedelta(days=1), active=True)
    assert sources.promises_ending(root, today=today) == 1
    assert sources.promises_ending(root, today=today) == 1          # same keys: still one each
    tm.commit()
    drain(ChannelWorker(db, "office", OfficeSender(), settings()), conn, tm)
    tm.begin()
    (_, item), = root["notify"].inbox(502).newest()
    assert item.text == (f"Обещанный платёж 300.00 по договору {contract.number} "
                         f"заканчивается {(today + datetime.timedelta(days=1)).isoformat()}.")
    assert len(root.outbox.channels["mail"]) == 1


def test_mass_mailing_to_a_segment_with_report(db, conn, tm, root, people, smtp):
    people[502].account.post(-5000, "charge", "c:1", "fee")           # Ivan owes
    people[501].__parent__.notify_marketing = False                   # Anna opted out
    mailing = mailings.create(root["notify"], mailings.Mailing(
        "Offer", Segment(debt="payers"), ["mail", "office"], "Hello {{ name }}",
        "Dear {{ name }}, a faster tariff for you.", "<p>Dear {{ name }}</p>"))
    # the window holds the expansion back until messages settle
    assert mailings.expand(root, mailing, window=2) == 2             # Anna: mail + office
    assert mailings.expand(root, mailing, window=2) == 0
    s = settings(notify__mail__port=smtp.port)
    workers = [ChannelWorker(db, "mail", SmtpSender(s), s),
               ChannelWorker(db, "office", OfficeSender(), s)]
    for round in range(10):
        tm.commit()
        for worker in workers:
            drain(worker, conn, tm)
        tm.begin()
        if round == 0:
            assert mailing.counts()["skipped"] == 2                  # opted out of marketing
        if mailing.state != "sending":
            break
        mailings.expand(root, mailing, window=2)
    assert mailings.finish(mailing) and mailing.state == "done"
    # No Mail (503) has no e-mail: its letter is skipped; its office message arrives
    assert mailing.counts() == {"queued": 4, "sent": 1, "skipped": 3, "given-up": 0}
    assert mailing.progress == 100
    assert [m["Subject"] for m in smtp.messages] == []               # Ivan is a debtor
    assert root["notify"].inbox(503).newest()[0][1].text == "Dear No Mail, a faster tariff for you."


def test_cancelled_mailing_sends_nothing_more(db, conn, tm, root, people, smtp):
    mailing = mailings.create(root["notify"], mailings.Mailing(
        "News", Segment(), ["mail"], "News", "Dear {{ name }}", marketing=False))
    mailings.expand(root, mailing, window=100)
    mailing.cancel()
    assert mailings.expand(root, mailing, window=100) == 0
    tm.commit()
    s = settings(notify__mail__port=smtp.port)
    drain(ChannelWorker(db, "mail", SmtpSender(s), s), conn, tm)
    assert smtp.messages == []
    tm.begin()
    assert {m.last_error for m in root.outbox.channels["mail"].values()} == {
        "the mailing was cancelled"}
