"""Configurable business processes (WorkFlow): process definitions as data
(:mod:`.definition`), their requests and the moves between states
(:mod:`.engine`), conditions and actions by name (:mod:`.actions`), the
timer (``portmonet workflow timers``), the work queue and the card's and
office's requests.  See ``docs/workflow.md``."""
from ..web.i18n import _
from ..web.navigation import subscriber_view, under


def includeme(config):
    config.include(".panels")
    config.add_link("nav", "queue", _("Work queue"), under("workflows/@@queue"), order=55)
    config.add_link("office", "repair", _("Report a problem"), subscriber_view("@@office-repair", lambda root: "workflows" in root),
                    order=60)
    config.scan(ignore=[".tests"])
