"""Evolve steps of the RADIUS feature."""
from ..evolve import step
from . import check  # noqa: F401  registers the books check


@step("2026-11-25-radius-01-state")
def add_radius_state(root):
    """``root.radius``: online sessions, history and rejects."""
    from .sessions import RadiusState
    if getattr(root, "radius", None) is None:
        root.radius = RadiusState()
        root.radius.__parent__ = root


@step("2026-11-25-radius-02-by-login")
def merge_login_indexes(root):
    """``root.radius.online`` and ``.history`` become one ``by_login`` index
    (a Start then writes one bucket instead of two)."""
    from BTrees.OOBTree import OOBTree
    state = root.radius
    if state.by_login is not None:
        return
    state.by_login = OOBTree()
    for session in (state.history or {}).values():
        if session.online:
            state.opened(session)
        else:
            state.closed(session)
    for name in ("online", "history"):
        if name in state.__dict__:
            delattr(state, name)


@step("2026-11-25-radius-03-pools")
def add_pools(root):
    """``root.radius.pools``: the IP pools Portmonet leases addresses from."""
    from .pools import IpPools
    if root.radius.pools is None:
        pools = IpPools()
        pools.__name__ = "pools"
        pools.__parent__ = root.radius
        root.radius.pools = pools


@step("2026-11-25-radius-04-daily")
def add_daily(root):
    """``root.radius.daily``: traffic totals per login and day of purged sessions."""
    from BTrees.OOBTree import OOBTree
    if root.radius.daily is None:
        root.radius.daily = OOBTree()


@step("2026-12-04-radius-05-by-ip")
def add_by_ip(root):
    """``root.radius.by_ip``: sessions by Framed-IP-Address and start, so
    traffic seen by address finds who held the address at that moment."""
    from BTrees.OOBTree import OOBTree
    from .interfaces import INas
    state = root.radius
    if state.by_ip is not None:
        return
    state.by_ip = OOBTree()
    for nas in root["equipment"].values():
        if INas.providedBy(nas):
            for session in nas.sessions.values():
                state.addressed(session)
