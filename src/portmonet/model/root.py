"""The application root (``/``) and its installation."""
from BTrees.OOBTree import OOTreeSet
from zope.interface import implementer

from ..catalog import Catalog
from ..interfaces import IRoot
from .folder import Folder
from .simple import EquipmentFolder, Operators, Tariffs
from .staff import StaffFolder
from .subscriber import Subscribers

APP_KEY = "portmonet"


@implementer(IRoot)
class Root(Folder):
    title = "Portmonet"
    __name__ = ""
    # Contracts per status (model.contract.StatusCounts), made by the evolve
    # step "core-04"; None on a database not evolved yet (nothing counts).
    contract_counts = None
    # The server-side sign-in sessions (web.sessions.SessionBook), made by
    # the evolve step "core-05".
    web_sessions = None

    def __init__(self):
        super().__init__()
        self.catalog = Catalog()
        self.catalog.__parent__ = self
        self.evolved = OOTreeSet()     # names of evolve steps already run
        self.add("subscribers", Subscribers())
        self.add("tariffs", Tariffs())
        self.add("equipment", EquipmentFolder())
        self.add("operators", Operators())
        self.add("staff", StaffFolder())


def get_root(zodb_root):
    return zodb_root.get(APP_KEY)


def install(zodb_root):
    """Create the application root if the database is new; returns it."""
    app = zodb_root.get(APP_KEY)
    if app is None:
        app = zodb_root[APP_KEY] = Root()
        # A new database runs every step in this transaction: steps both
        # install a feature's objects and bring old databases up to date.
        from ..evolve import run_all_now
        run_all_now(app)
    return app
