"""``portmonet check``: the RADIUS indexes agree with the NASes' sessions."""
from ..ops.check import EXTRA_CHECKS
from .interfaces import INas


def check_sessions(root, conn, report):
    state = getattr(root, "radius", None)
    if state is None:
        return
    online = 0
    for nas in root["equipment"].values():
        if not INas.providedBy(nas):
            continue
        for sid, session in nas.online.items():
            online += 1
            if not session.online:
                report.problem(f"NAS {nas.name}: closed session {sid} in its online index")
            if state.online.get(session.key()) is not session:
                report.problem(f"NAS {nas.name}: online session {sid} missing from root.radius.online")
    if len(state.online) != online:
        report.problem(f"root.radius.online holds {len(state.online)} sessions, "
                       f"the NASes {online}")
    report.count("radius_online", online)


if check_sessions not in EXTRA_CHECKS:
    EXTRA_CHECKS.append(check_sessions)
