"""Where processes and their instances live.

``/workflows/<process>`` is a :class:`Process`: its definition versions by
number (a changed definition is a new version; an instance keeps the one
it started on).  ``/workflows/requests/<key>`` is an :class:`Instance`;
keys are time-based with random bits, so web processes starting requests
at once never compete for one key.  Three indexes, kept by the instance
itself on every move, answer the pages and the timer without scanning:

* ``by_subject``: (subject, key) — a subscriber's or contract's requests;
* ``queue``: (role, key) — open instances a role can move now;
* ``deadlines``: (deadline µs, key) — open instances with a deadline not
  yet escalated, in the order the timer meets them.
"""
import itertools
import random

from BTrees.Length import Length
from BTrees.OOBTree import OOBTree
from persistent import Persistent
from zope.interface import implementer

from ..clock import now_us
from ..model.folder import Folder
from ..web.helpers import prefetch, prefetch_keys
from .interfaces import IInstance, IInstances, IProcess, IWorkflows

_random = random.SystemRandom()
HIGH = "\U0010ffff"


@implementer(IWorkflows)
class Workflows(Folder):
    title = "Workflows"

    def __init__(self):
        super().__init__()
        self.add("requests", Instances())

    @property
    def requests(self):
        return self["requests"]

    def processes(self):
        return [p for p in self.values() if IProcess.providedBy(p)]


@implementer(IProcess)
class Process(Persistent):
    """A process: its versions (number -> Definition), the newest in use."""

    __name__ = None
    __parent__ = None

    def __init__(self, name):
        self.name = name
        self.versions = OOBTree()

    @property
    def title(self):
        return self.current.title

    @property
    def current(self):
        return self.versions[self.versions.maxKey()]

    def add_version(self, definition):
        """Keep *definition* as the newest version unless it is the same
        text as the newest; returns its number."""
        if self.versions and self.current.source == definition.source:
            return self.versions.maxKey()
        number = (self.versions.maxKey() + 1) if self.versions else 1
        definition.version = number
        self.versions[number] = definition
        return number


@implementer(IInstances)
class Instances(Folder):
    title = "Requests"

    def __init__(self):
        super().__init__(counted=True)
        self.by_subject = OOBTree()
        self.queue = OOBTree()
        self.deadlines = OOBTree()
        self.open_count = Length()

    def new_key(self):
        while True:
            key = f"{now_us():016d}{_random.getrandbits(16):04x}"
            if key not in self.data:
                return key

    def of_subject(self, subject, limit=50):
        """The newest instances of *subject*, newest first."""
        keys = list(self.by_subject.keys((subject, ""), (subject, HIGH)))
        return [self.data[k] for _, k in reversed(keys[-limit:])]

    def for_roles(self, roles, limit=200):
        """Open instances any of *roles* can move now, oldest first."""
        keys = set()
        for role in roles:
            keys.update(k for _, k in self.queue.keys((role, ""), (role, HIGH)))
        return [self.data[k] for k in sorted(keys)[:limit]]

    def due(self, now, limit=1000):
        """Open instances whose deadline has passed, not yet escalated:
        their buckets, then the instances, asked of ZEO in two pipelined
        rounds instead of a round trip each."""
        keys = [k for _, k in itertools.islice(self.deadlines.keys(max=(now, HIGH)), limit)]
        prefetch_keys([(self.data, k) for k in keys])
        found = [self.data[k] for k in keys]
        prefetch(found)
        return found


@implementer(IInstance)
class Instance(Persistent):
    """One request: its process version, subject, state and history.

    The history is a tuple replaced on each move: an instance makes tens of
    moves, not thousands."""

    __name__ = None
    __parent__ = None
    contract = None          # the contract it made or is about (a number)
    escalated = False

    def __init__(self, definition, subject, data, user, when_us):
        self.definition = definition
        self.subject = subject
        self.data = tuple(sorted((data or {}).items()))
        self.state = definition.initial
        self.created_us = when_us
        self.created_by = user
        self.history = ()
        self.state_since_us = when_us
        self.deadline_us = 0

    @property
    def title(self):
        return f"{self.definition.title} {self.__name__}"

    @property
    def process(self):
        return self.definition.name

    @property
    def open(self):
        return not self.definition.state(self.state).final

    def value(self, name, default=None):
        return dict(self.data).get(name, default)

    def overdue(self, now=None):
        return bool(self.deadline_us) and (now or now_us()) > self.deadline_us

    def record(self, when_us, user, transition, source, target, comment=""):
        self.history = self.history + ((when_us, user, transition, source, target, comment),)

    def enter(self, state, when_us):
        """Move to *state*, keeping the indexes of the folder true."""
        folder = self.__parent__
        self._unindex(folder)
        self.state = state
        self.state_since_us = when_us
        self.escalated = False
        sla = self.definition.state(state).sla_us
        self.deadline_us = when_us + sla if sla else 0
        self._index(folder)

    def mark_escalated(self):
        """Past its deadline: off the timer's list, on the queue of the
        role it is escalated to."""
        folder = self.__parent__
        folder.deadlines.pop((self.deadline_us, self.__name__), None)
        self.escalated = True
        role = self.definition.state(self.state).escalate_to
        if role:
            folder.queue[(role, self.__name__)] = None

    def index(self):
        folder = self.__parent__
        folder.by_subject[(self.subject, self.__name__)] = None
        self._index(folder)

    def _roles_now(self):
        roles = set()
        for t in self.definition.transitions_from(self.state):
            roles.update(t.roles)
        state = self.definition.state(self.state)
        if self.escalated and state.escalate_to:
            roles.add(state.escalate_to)
        return roles

    def _index(self, folder):
        if not self.open:
            return
        folder.open_count.change(1)
        for role in self._roles_now():
            folder.queue[(role, self.__name__)] = None
        if self.deadline_us and not self.escalated:
            folder.deadlines[(self.deadline_us, self.__name__)] = None

    def _unindex(self, folder):
        if not self.open:
            return
        folder.open_count.change(-1)
        for role in self._roles_now():
            folder.queue.pop((role, self.__name__), None)
        folder.deadlines.pop((self.deadline_us, self.__name__), None)
