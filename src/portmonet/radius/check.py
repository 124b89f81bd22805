"""``portmonet check``: the RADIUS indexes agree with the NASes' sessions."""
from ..ops.check import EXTRA_CHECKS
from .interfaces import INas


def check_sessions(root, conn, report):
    state = getattr(root, "radius", None)
    if state is None:
        return
    from .sessions import ONLINE
    online = 0
    for nas in root["equipment"].values():
        if not INas.providedBy(nas):
            continue
        for sid, session in nas.online.items():
            online += 1
            if not session.online:
                report.problem(f"NAS {nas.name}: closed session {sid} in its online index")
            key = (session.login, ONLINE, session.start_us, session.nas, session.session_id)
            if state.by_login.get(key) is not session:
                report.problem(f"NAS {nas.name}: online session {sid} missing from "
                               f"root.radius.by_login")
    indexed = len(state.online_keys())
    if indexed != online:
        report.problem(f"root.radius.by_login holds {indexed} online sessions, "
                       f"the NASes {online}")
    report.count("radius_online", online)
    check_leases(root, state, report)


def check_leases(root, state, report):
    """Every lease a session took belongs to that session, open, on that
    address: a lease left behind would keep an address from everyone."""
    import ipaddress
    pools = getattr(state, "pools", None)
    if pools is None:
        return
    leases = 0
    for pool in pools.values():
        for address, (login, nas_name, session_id, _) in pool.leases.items():
            leases += 1
            if not session_id:
                continue                 # leased at Access-Accept, no Start yet (expires)
            nas = root["equipment"].get(nas_name)
            session = nas.sessions.get(session_id) if INas.providedBy(nas) else None
            text = str(ipaddress.IPv4Address(address))
            if session is None or not session.online or session.framed_ip != text \
                    or session.login != login:
                report.problem(f"pool {pool.__name__}: {text} leased to {login} "
                               f"({nas_name}/{session_id}), which is not online on it")
    report.count("radius_leases", leases)


if check_sessions not in EXTRA_CHECKS:
    EXTRA_CHECKS.append(check_sessions)
