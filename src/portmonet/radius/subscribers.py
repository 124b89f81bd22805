"""What RADIUS does when a service loses or gets back its access: queue a
Disconnect / CoA for its login in the outbox (the RADIUS process sends it
after the deciding transaction committed)."""
from ..events import IServiceBlocked, IServiceUnblocked
from .coa import request_coa, request_disconnect


def _login(event):
    """The service's login, if it is an Internet service in a database
    with an outbox (an old one before its evolve steps has none)."""
    if getattr(event.root, "outbox", None) is None:
        return None
    return getattr(event.service, "login", None)


def disconnect_blocked(event):
    login = _login(event)
    if login:
        request_disconnect(event.root, login, event.note or event.reason, event.user,
                           key=f"{event.key}:{login}")


def reauthorize_unblocked(event):
    """A CoA: the NAS applies the restored policy to a live session."""
    login = _login(event)
    if login:
        request_coa(event.root, login, event.note or "unblocked", event.user,
                    key=f"{event.key}:{login}")


def includeme(config):
    config.add_subscriber(disconnect_blocked, IServiceBlocked)
    config.add_subscriber(reauthorize_unblocked, IServiceUnblocked)
