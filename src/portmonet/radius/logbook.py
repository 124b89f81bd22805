"""The RADIUS process's bounded warnings (:class:`portmonet.lograte.Limited`)
about hostile or broken input: malformed packets, bad authenticators,
implausible accounting."""
import logging

from ..lograte import Limited

log = logging.getLogger("portmonet.radius")


def limited():
    """A bounded logger of RADIUS warnings."""
    return Limited(log)


# The process's own, for the code that has no server at hand (accounting).
LIMITED = limited()
