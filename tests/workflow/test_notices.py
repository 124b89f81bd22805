"""A workflow step's notice reaches the notifier as an event it knows:
every `notify:` of the built-in processes has a template in both
languages and every channel, and a real step's messages compose."""
from portmonet.model.subscriber import Subscriber
from portmonet.notify import events as notify_events
from portmonet.notify.compose import Envelope, compose
from portmonet.notify.settings import Settings
from portmonet.workflow import engine
from portmonet.workflow.library import builtin_texts, install_builtin, read


def test_every_builtin_notice_has_its_templates():
    named = {argument for _, text in builtin_texts() for t in read(text).transitions
             for action, argument in t.actions if action == "notify"}
    assert len(named) == 7
    known = notify_events.events()
    for name in named:
        assert name in known, name
        event = notify_events.get(name)
        for lang in ("en", "ru"):
            assert set(event.texts[lang]) >= {"mail", "sms", "office"}, (name, lang)


def test_a_steps_notice_composes_in_the_subscribers_language(root):
    install_builtin(root)
    sub = root["subscribers"].add_subscriber(
        Subscriber("Anna Smith", email="anna@example.net", phone="+7 901 000-00-01"))
    sub.notify_language = "en"
    request = engine.start(root, "connection-request", f"subscriber:{sub.id}", "office")
    engine.take(root, request, "accept", "boss", ["manager"])
    engine.take(root, request, "address-ok", "eng", ["engineer"])
    settings = Settings({"notify.operator_name": "Test ISP", "notify.language": "ru",
                         "notify.quiet_hours": "", "notify.office_url": "https://isp.example/office"})
    messages = [m for channel in ("mail", "sms", "office")
                for m in root.outbox.channels[channel].values()]
    assert len(messages) == 3
    for message in messages:
        envelope = compose(root, message, settings, 0)
        assert isinstance(envelope, Envelope), (message.channel, envelope)
        assert request.__name__ in envelope.subject + envelope.text
        assert "engineer" in envelope.subject + envelope.text
