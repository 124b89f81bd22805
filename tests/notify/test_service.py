"""The notifier's whole loop in one process (``service.run``): a thread per
channel and the housekeeping that makes invoice notices and expands a mass
mailing, until nothing is due."""
import threading

from portmonet.notify import mailing as mailings, service
from portmonet.notify.segments import Segment
from portmonet.notify.smsc import SMSC

from .conftest import settings
from .test_mail import block_notice


def test_run_until_idle_sends_every_channel_and_a_mailing(db, conn, tm, root, people, smtp,
                                                          tmp_path):
    smsc = SMSC()
    try:
        for contract in people.values():
            block_notice(root, contract)
        mailings.create(root["notify"], mailings.Mailing(
            "Works", Segment(), ["office"], "Works tonight", "Dear {{ name }}: works tonight",
            marketing=False))
        tm.commit()
        s = settings(notify__mail__port=smtp.port, notify__smpp__port=smsc.port,
                     notify__journal_dir=tmp_path, notify__poll="0.05",
                     notify__mail__connections="2")
        stop, fired = threading.Event(), []
        timer = threading.Timer(60, lambda: (fired.append(1), stop.set()))   # should it hang
        timer.start()
        stats = service.run(db, s, until_idle=True, stop=stop)
        timer.cancel()
        assert not fired                                  # it stopped because it was idle
        assert stats["mail"]["sent"] == 2 and stats["sms"]["sent"] == 2
        assert stats["office"]["sent"] == 6               # 3 notices + 3 of the mailing
        assert len(smtp.messages) == 2 and len(smsc.texts()) == 2
        tm.begin()
        (mailing,) = root["notify"].values()
        assert mailing.state == "done" and mailing.counts()["sent"] == 3
        assert root["notify"].unread_of(502) == 2
        assert root.outbox.due("mail") == root.outbox.due("sms") == root.outbox.due("office") == []
    finally:
        smsc.stop()
