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


if check_sessions not in EXTRA_CHECKS:
    EXTRA_CHECKS.append(check_sessions)
