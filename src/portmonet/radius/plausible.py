"""What accounting counters may plausibly say (issue 20).

A NAS reports cumulative counters: octets (with Gigawords), Acct-Session-Time.
An update is taken only if, against what the session holds:

* no counter went back (a reset, or an older packet arriving late);
* its event time did not go back by more than :data:`SLACK_S`;
* the session time did not advance more than the wall clock did (plus
  slack): a NAS cannot report an hour of session in a minute;
* the octets did not grow faster than the link can carry in the time that
  passed: ``link bit/s / 8 × (elapsed + slack)``; the link is the NAS's
  ``max_link_bps`` or :data:`MAX_LINK_BPS` (100 Gbit/s).  All-ones octets
  and Gigawords (2^64 - 1 octets) would take 46 years at 100 Gbit/s.

An update that fails is not taken (nothing of it is billed), with the
reason logged through :mod:`portmonet.radius.logbook` and counted on the
session (``implausible``); a Stop still ends the session.
"""
MAX_LINK_BPS = 100 * 10 ** 9
SLACK_S = 60
MAX_SESSION_S = 366 * 86400        # a longer Acct-Session-Time is not a session


def link_bytes_per_s(nas):
    return (getattr(nas, "max_link_bps", None) or MAX_LINK_BPS) // 8


def why_not(session, rec, bytes_per_s):
    """None if *rec*'s counters may follow *session*'s, else the reason."""
    new = (rec["octets_in"], rec["octets_out"], rec["seconds"])
    old = (session.octets_in, session.octets_out, session.seconds)
    if any(n < o for n, o in zip(new, old)):
        return "counters went back (a reset, or an older packet)"
    wall_s = (rec["when_us"] - session.last_us) / 1e6
    if wall_s < -SLACK_S:
        return f"event time went back {-wall_s:.0f} s"
    if new[2] - old[2] > max(wall_s, 0) + SLACK_S:
        return f"session time advanced {new[2] - old[2]} s in {wall_s:.0f} s"
    elapsed = max(new[2] - old[2], wall_s, 0) + SLACK_S
    grown = (new[0] - old[0]) + (new[1] - old[1])
    if grown > elapsed * bytes_per_s:
        return (f"{grown} octets in {elapsed:.0f} s is more than the link's "
                f"{bytes_per_s * 8} bit/s")
    return None
