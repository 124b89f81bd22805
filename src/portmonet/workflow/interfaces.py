from zope.interface import Attribute, Interface

from ..events import IDomainEvent


class IWorkflows(Interface):
    """``/workflows``: the process definitions and their instances."""


class IProcess(Interface):
    """``/workflows/<process>``: a process and its versions."""


class IInstances(Interface):
    """``/workflows/requests``: every instance, by key."""


class IInstance(Interface):
    """One run of a process for a subject (a request, a ticket)."""


class IWorkflowStepTaken(IDomainEvent):
    """An instance moved: fired inside the transaction that moved it."""
    instance = Attribute("the instance, already in its new state")
    transition = Attribute("the transition's name ('start' when it began, "
                           "'timeout' when the timer moved it)")
    source = Attribute("the state it left (None when it began)")
    user = Attribute("who took it")


class IWorkflowEscalated(IDomainEvent):
    """An instance stayed in a state past its deadline and was escalated."""
    instance = Attribute("the instance")
    role = Attribute("the role it was escalated to")
