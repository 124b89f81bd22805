"""The notifier's peers: a real SMTP server (aiosmtpd) on loopback, and
helpers to run a channel's worker over an in-memory database."""
import pytest

from portmonet.model.services import InternetService
from portmonet.model.subscriber import Subscriber
from portmonet.notify import sink as sinkmod
from portmonet.notify.settings import Settings


@pytest.fixture
def smtp():
    controller, sink = sinkmod.start()
    sink.port = controller.port
    yield sink
    controller.stop()


def settings(**extra):
    values = {"notify.operator_name": "Test ISP", "notify.language": "ru",
              "notify.quiet_hours": "", "notify.retry_base": "1", "notify.mail.from":
              "billing@isp.example", "notify.mail.timeout": "5"}
    values.update({k.replace("__", "."): str(v) for k, v in extra.items()})
    return Settings(values)


@pytest.fixture
def people(root, tm):
    subs = root["subscribers"]
    anna = subs.add_subscriber(Subscriber("Anna Smith", email="anna@example.net",
                                          phone="+7 901 000-00-01"), id=501)
    anna.notify_language = "en"
    ivan = subs.add_subscriber(Subscriber("Иван Петров", email="ivan@example.net"), id=502)
    nomail = subs.add_subscriber(Subscriber("No Mail", phone="+7 901 000-00-03"), id=503)
    out = {}
    for s in (anna, ivan, nomail):
        c = s.new_contract()
        c.add_service(InternetService(f"login{s.id}", "pw"))
        out[s.id] = c
    tm.commit()
    return out


def drain(worker, conn, tm, rounds=10):
    """Run the worker's steps until nothing is due."""
    total = 0
    for _ in range(rounds):
        done = worker.step(conn, tm)
        total += done
        if not done:
            break
    return total
