"""Process definitions as data: a YAML (or JSON) document read into a
checked, immutable :class:`Definition`.

A definition names its states and the transitions between them; who may
take each transition (staff roles, or ``subscriber`` in the office); the
conditions that must hold and the actions it carries out; and per state
a deadline (``sla``) with what happens when it passes (``escalate_to`` a
role, or ``on_timeout`` a transition taken by the timer).  The format is
in ``docs/workflow.md``; a bad file is refused with every problem, each
with its line::

    process: repair
    title: Repair ticket
    subject: subscriber
    initial: open
    states:
      open:     {title: Open, sla: 4h, escalate_to: manager}
      working:  {title: Engineer working, sla: 2d, escalate_to: manager}
      done:     {title: Fixed, wait for the subscriber, sla: 3d, on_timeout: confirm}
      closed:   {title: Closed, final: true}
    transitions:
      - {name: take, title: Take, from: open, to: working, roles: [engineer]}
      ...
"""
import re

import yaml
from persistent import Persistent

NAME = re.compile(r"^[a-z][a-z0-9-]{0,63}$")
DURATION = re.compile(r"^(\d{1,4})([mhd])$")
UNITS_US = {"m": 60_000_000, "h": 3_600_000_000, "d": 86_400_000_000}
SUBJECTS = ("subscriber", "contract", "none")
# Who may take a transition besides staff roles: the subscriber in the office.
SUBSCRIBER = "subscriber"


class DefinitionError(ValueError):
    """A definition that cannot be used; ``problems`` are 'line N: what'."""

    def __init__(self, problems):
        self.problems = list(problems)
        super().__init__("; ".join(self.problems))


class State:
    __slots__ = ("name", "title", "final", "sla_us", "escalate_to", "on_timeout")

    def __init__(self, name, title, final=False, sla_us=0, escalate_to=None, on_timeout=None):
        self.name, self.title, self.final = name, title, final
        self.sla_us, self.escalate_to, self.on_timeout = sla_us, escalate_to, on_timeout


class Transition:
    __slots__ = ("name", "title", "sources", "target", "roles", "conditions", "actions")

    def __init__(self, name, title, sources, target, roles, conditions=(), actions=()):
        self.name, self.title, self.sources, self.target = name, title, sources, target
        self.roles, self.conditions, self.actions = roles, conditions, actions

    def allowed(self, roles):
        return bool(set(roles) & set(self.roles))


class Definition(Persistent):
    """One version of a process: immutable once read (a changed file makes
    a new version, and instances keep the version they started on)."""

    version = 0

    def __init__(self, name, title, subject, initial, states, transitions, source=""):
        self.name, self.title, self.subject, self.initial = name, title, subject, initial
        self.states = states                  # name -> State, in file order
        self.transitions = transitions        # tuple of Transition, in file order
        self.source = source                  # the text it was read from

    def state(self, name):
        return self.states[name]

    def transitions_from(self, state):
        return [t for t in self.transitions if state in t.sources]

    def transition(self, name, state):
        for t in self.transitions:
            if t.name == name and state in t.sources:
                return t
        return None

    def roles(self):
        """Every role that takes part (for the work queues)."""
        out = set()
        for t in self.transitions:
            out.update(t.roles)
        for s in self.states.values():
            if s.escalate_to:
                out.add(s.escalate_to)
        return out


# -- reading ---------------------------------------------------------------
class _Lines(yaml.SafeLoader):
    """A YAML loader that remembers the line of every mapping."""


def _mapping_with_line(loader, node):
    mapping = loader.construct_mapping(node, deep=True)
    return _Located(mapping, node.start_mark.line + 1)


_Lines.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping_with_line)


class _Located(dict):
    """A mapping that knows the line it started on."""

    def __init__(self, mapping, line):
        super().__init__(mapping)
        self.line = line


def parse(text, known_roles, actions, conditions):
    """Read and check a definition; *known_roles* the staff roles,
    *actions* and *conditions* the names registered (``workflow.actions``).
    Raises DefinitionError listing every problem with its line."""
    try:
        doc = yaml.load(text, Loader=_Lines)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}: " if mark else ""
        raise DefinitionError([f"{where}not YAML: {getattr(exc, 'problem', exc)}"]) from None
    return _Checker(known_roles, actions, conditions).definition(doc, text)


class _Checker:
    def __init__(self, known_roles, actions, conditions):
        self.roles = set(known_roles) | {SUBSCRIBER}
        self.actions, self.conditions = actions, conditions
        self.problems = []

    def fail(self, where, message):
        line = getattr(where, "line", None)
        self.problems.append(f"line {line}: {message}" if line else message)

    def keys(self, mapping, allowed, required=()):
        for key in mapping:
            if key not in allowed:
                self.fail(mapping, f"unknown field {key!r} (allowed: {', '.join(allowed)})")
        for key in required:
            if key not in mapping:
                self.fail(mapping, f"{key!r} is required")

    def name(self, where, value, what):
        if not isinstance(value, str) or not NAME.match(value):
            self.fail(where, f"{what} {value!r}: lower-case letters, digits and '-'")
            return None
        return value

    def text(self, where, value, what):
        if not isinstance(value, str) or not value.strip() or len(value) > 200:
            self.fail(where, f"{what}: a text of 1 to 200 characters")
            return ""
        return value.strip()

    def duration(self, where, value):
        found = DURATION.match(str(value))
        if not found or int(found.group(1)) == 0:
            self.fail(where, f"sla {value!r}: a number and m, h or d (e.g. 4h, 2d)")
            return 0
        return int(found.group(1)) * UNITS_US[found.group(2)]

    def definition(self, doc, text):
        if not isinstance(doc, dict):
            raise DefinitionError(["line 1: a process definition is a mapping"])
        self.keys(doc, ("process", "title", "subject", "initial", "states", "transitions"),
                  ("process", "title", "initial", "states", "transitions"))
        name = self.name(doc, doc.get("process"), "process")
        title = self.text(doc, doc.get("title"), "title")
        subject = doc.get("subject", "subscriber")
        if subject not in SUBJECTS:
            self.fail(doc, f"subject {subject!r}: one of {', '.join(SUBJECTS)}")
        states = self.states(doc, doc.get("states"))
        transitions = self.transitions(doc, doc.get("transitions"), states)
        initial = doc.get("initial")
        if states and initial not in states:
            self.fail(doc, f"initial state {initial!r} is not among the states")
        self.reachable(doc, initial, states, transitions)
        if self.problems:
            raise DefinitionError(self.problems)
        return Definition(name, title, subject, initial, states, tuple(transitions), text)

    def states(self, doc, raw):
        if not isinstance(raw, dict) or not raw:
            self.fail(doc, "states: a mapping of state name -> {title, ...}")
            return {}
        states = {}
        for key, spec in raw.items():
            if self.name(raw, key, "state") is None:
                continue
            if not isinstance(spec, dict):
                self.fail(raw, f"state {key}: a mapping")
                continue
            self.keys(spec, ("title", "final", "sla", "escalate_to", "on_timeout"), ("title",))
            escalate = spec.get("escalate_to")
            if escalate is not None and escalate not in self.roles:
                self.fail(spec, f"state {key}: escalate_to {escalate!r} is not a role")
            final = spec.get("final", False) is True
            sla = self.duration(spec, spec["sla"]) if spec.get("sla") is not None else 0
            if final and (sla or escalate or spec.get("on_timeout")):
                self.fail(spec, f"state {key}: a final state has no sla")
            if (escalate or spec.get("on_timeout")) and not sla:
                self.fail(spec, f"state {key}: escalate_to and on_timeout need an sla")
            states[key] = State(key, self.text(spec, spec.get("title"), f"state {key} title"),
                                final, sla, escalate, spec.get("on_timeout"))
        return states

    def transitions(self, doc, raw, states):
        if not isinstance(raw, list) or not raw:
            self.fail(doc, "transitions: a list of {name, from, to, roles, ...}")
            return []
        out = []
        for spec in raw:
            if not isinstance(spec, dict):
                self.fail(doc, "a transition is a mapping")
                continue
            self.keys(spec, ("name", "title", "from", "to", "roles", "conditions", "actions"),
                      ("name", "from", "to", "roles"))
            name = self.name(spec, spec.get("name"), "transition")
            sources = spec.get("from")
            sources = tuple(sources) if isinstance(sources, list) else (sources,)
            for source in sources:
                if source not in states:
                    self.fail(spec, f"transition {name}: from {source!r} is not a state")
                elif states[source].final:
                    self.fail(spec, f"transition {name}: leaves the final state {source!r}")
            if spec.get("to") not in states:
                self.fail(spec, f"transition {name}: to {spec.get('to')!r} is not a state")
            roles = spec.get("roles")
            if not isinstance(roles, list) or not roles:
                self.fail(spec, f"transition {name}: roles is a list of roles")
                roles = []
            for role in roles:
                if role not in self.roles:
                    self.fail(spec, f"transition {name}: {role!r} is not a role")
            conditions = tuple(self.named_list(spec, "conditions", self.conditions, name))
            actions = tuple(self.actions_of(spec, name))
            out.append(Transition(name, self.text(spec, spec.get("title", name), "title"),
                                  sources, spec.get("to"), tuple(roles), conditions, actions))
        for state in states.values():
            if state.on_timeout and not any(t.name == state.on_timeout and state.name in t.sources
                                            for t in out):
                self.fail(raw[0] if raw else doc, f"state {state.name}: on_timeout "
                          f"{state.on_timeout!r} is not a transition from it")
        return out

    def named_list(self, spec, key, known, transition):
        values = spec.get(key, [])
        if not isinstance(values, list):
            self.fail(spec, f"transition {transition}: {key} is a list")
            return []
        for value in values:
            if value not in known:
                self.fail(spec, f"transition {transition}: unknown {key[:-1]} {value!r} "
                          f"(known: {', '.join(sorted(known))})")
        return values

    def actions_of(self, spec, transition):
        """Actions: a name, or {name: argument}."""
        values = spec.get("actions", [])
        if not isinstance(values, list):
            self.fail(spec, f"transition {transition}: actions is a list")
            return
        for value in values:
            if isinstance(value, dict) and len(value) == 1:
                (action, argument), = value.items()
            else:
                action, argument = value, None
            if not isinstance(action, str) or action not in self.actions:
                self.fail(spec, f"transition {transition}: unknown action {action!r} "
                          f"(known: {', '.join(sorted(self.actions))})")
                continue
            message = self.actions[action].check(argument)
            if message:
                self.fail(spec, f"transition {transition}: action {action}: {message}")
            yield (action, _frozen(argument))

    def reachable(self, doc, initial, states, transitions):
        """Every state can be reached from the initial one, and a final one
        from every state (no process that can never end)."""
        if initial not in states:
            return
        seen, todo = {initial}, [initial]
        while todo:
            here = todo.pop()
            for t in transitions:
                if here in t.sources and t.target in states and t.target not in seen:
                    seen.add(t.target)
                    todo.append(t.target)
        for name in states:
            if name not in seen:
                self.fail(doc, f"state {name} cannot be reached from {initial}")
        if not any(s.final for s in states.values()):
            self.fail(doc, "no final state: the process could never end")


def _frozen(value):
    """Action arguments as immutable values (definitions are stored as is)."""
    if isinstance(value, dict):
        return tuple(sorted((k, _frozen(v)) for k, v in value.items()))
    if isinstance(value, list):
        return tuple(_frozen(v) for v in value)
    return value
