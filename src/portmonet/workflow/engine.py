"""Starting a request, moving it, and the timer.

A move is one transaction: the caller (a web view, the timer, a command)
commits what :func:`take` did — the new state, the history line, the
actions' records, the events' subscribers' records — or nothing.  Two
employees who take the same transition at once write the same instance:
ZODB refuses the second commit, the request is retried, and on the retry
the instance is no longer in the state the transition leaves, so the
second is told who moved it first.
"""
from .. import events
from ..clock import now_us
from .actions import ACTIONS, CONDITIONS, WorkflowRefused
from .definition import SUBSCRIBER
from .interfaces import IWorkflowEscalated, IWorkflowStepTaken
from .model import Instance
from zope.interface import implementer

TIMER = "portmonet workflow timer"


@implementer(IWorkflowStepTaken)
class WorkflowStepTaken:
    def __init__(self, root, instance, transition, source, user):
        self.root, self.instance, self.transition = root, instance, transition
        self.source, self.user = source, user


@implementer(IWorkflowEscalated)
class WorkflowEscalated:
    def __init__(self, root, instance, role):
        self.root, self.instance, self.role = root, instance, role
        self.user = TIMER


def workflows(root):
    folder = root.get("workflows")
    if folder is None:
        raise WorkflowRefused("workflows are not installed: run 'portmonet evolve'")
    return folder


def start(root, process, subject, user, data=None, comment="", when_us=None):
    """A new instance of *process* (its newest version) for *subject*
    ('subscriber:<id>', 'contract:<number>' or '-'); returns it."""
    folder = workflows(root)
    found = folder.get(process)
    if found is None or not hasattr(found, "versions"):
        raise WorkflowRefused(f"no process {process!r}")
    definition = found.current
    when_us = now_us() if when_us is None else when_us
    requests = folder.requests
    instance = Instance(definition, subject, data, user, when_us)
    key = requests.new_key()
    requests.add(key, instance)
    if subject.startswith("contract:"):
        instance.contract = subject.split(":", 1)[1]
    instance.enter(definition.initial, when_us)
    instance.index()
    instance.record(when_us, user, "start", None, definition.initial, comment)
    events.notify(WorkflowStepTaken(root, instance, "start", None, user))
    return instance


def available(instance, roles):
    """The transitions *roles* may take from the instance's state now."""
    return [t for t in instance.definition.transitions_from(instance.state) if t.allowed(roles)]


def take(root, instance, name, user, roles, comment="", when_us=None, expected_state=None):
    """Take transition *name* as *user* with *roles*; returns the new state.
    *expected_state*: the state the user saw (a form's hidden field), so a
    move someone else made in between is refused, not repeated."""
    source = instance.state
    if expected_state is not None and expected_state != source:
        raise WorkflowRefused(_moved(instance))
    transition = instance.definition.transition(name, source)
    if transition is None:
        if any(t.name == name for t in instance.definition.transitions):
            raise WorkflowRefused(_moved(instance))
        raise WorkflowRefused(f"no transition {name!r} in {instance.definition.title}")
    if not transition.allowed(roles):
        raise WorkflowRefused(f"'{transition.title}' is for {', '.join(transition.roles)}")
    for condition in transition.conditions:
        why = CONDITIONS[condition](root, instance)
        if why:
            raise WorkflowRefused(why)
    when_us = now_us() if when_us is None else when_us
    cause = f"workflow:{instance.__name__}:{len(instance.history)}:{transition.name}"
    for action, argument in transition.actions:
        ACTIONS[action].run(root, instance, _thawed(argument), user, f"{cause}:{action}")
    instance.enter(transition.target, when_us)
    instance.record(when_us, user, transition.name, source, transition.target, comment[:500])
    events.notify(WorkflowStepTaken(root, instance, transition.name, source, user))
    return transition.target


def _moved(instance):
    when, user, _name, _source, target, _comment = instance.history[-1]
    return f"already moved to '{instance.definition.state(target).title}' by {user or 'someone'}"


def _thawed(argument):
    if isinstance(argument, tuple) and argument and all(
            isinstance(x, tuple) and len(x) == 2 and isinstance(x[0], str) for x in argument):
        return {k: _thawed(v) for k, v in argument}
    return argument


def subscriber_roles(instance, subscriber_id):
    """The roles of a subscriber signed in to the office on *instance*:
    ``subscriber`` when it is theirs, none otherwise."""
    return (SUBSCRIBER,) if instance.subject == f"subscriber:{subscriber_id}" or (
        instance.contract and instance.contract.split("-")[0] == str(subscriber_id)) else ()


def sweep(root, now=None, limit=1000):
    """The timer: every open instance past its deadline either takes its
    state's ``on_timeout`` transition or is escalated to ``escalate_to``
    (once). Returns (moved, escalated)."""
    now = now_us() if now is None else now
    moved = escalated = 0
    for instance in workflows(root).requests.due(now, limit):
        state = instance.definition.state(instance.state)
        if state.on_timeout:
            transition = instance.definition.transition(state.on_timeout, state.name)
            take(root, instance, transition.name, TIMER, transition.roles,
                 comment="deadline passed", when_us=now)
            moved += 1
        else:
            instance.mark_escalated()
            instance.record(now, TIMER, "escalate", state.name, state.name,
                            f"deadline passed: escalated to {state.escalate_to}")
            events.notify(WorkflowEscalated(root, instance, state.escalate_to))
            escalated += 1
    return moved, escalated
