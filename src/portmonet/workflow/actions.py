"""What a transition may check and do, by name (a definition names them).

A condition is ``check(root, instance) -> None or the reason it fails``.
An action is carried out inside the transition's transaction and only
records: a contract made or activated, a posting (caused once by the
instance and transition), an outbox message the notifier sends after the
commit.  Features add their own with ``register_action`` /
``register_condition`` from their ``includeme`` (assigning a switch port
will come with the equipment feature).
"""
from ..interfaces import ITariffBook
from ..features import current_registry
from ..money import MoneyError, to_minor
from ..outbox import queue_notice

CONDITIONS = {}
ACTIONS = {}


class WorkflowRefused(ValueError):
    """A transition that cannot be taken now; the message says why."""


class Action:
    def __init__(self, name, run, check=lambda argument: None):
        self.name, self.run, self.check = name, run, check


def register_condition(name, check):
    CONDITIONS[name] = check


def register_action(name, run, check=lambda argument: None):
    ACTIONS[name] = Action(name, run, check)


# -- what the instance is about -----------------------------------------------
def subscriber_of(root, instance):
    if instance.definition.subject == "contract" or instance.contract:
        contract = contract_of(root, instance)
        return contract.__parent__ if contract is not None else None
    if instance.subject.startswith("subscriber:"):
        return root["subscribers"].get(instance.subject.split(":", 1)[1])
    return None


def contract_of(root, instance):
    number = instance.contract or (instance.subject.split(":", 1)[1]
                                   if instance.subject.startswith("contract:") else None)
    return root.catalog.contracts.get(number) if number else None


def _need_contract(root, instance):
    contract = contract_of(root, instance)
    if contract is None:
        raise WorkflowRefused("the request has no contract yet")
    return contract


# -- conditions ---------------------------------------------------------------
def _has_contract(root, instance):
    return None if contract_of(root, instance) is not None else "the request has no contract yet"


def _balance_not_negative(root, instance):
    contract = contract_of(root, instance)
    if contract is None or contract.account is None:
        return "the request has no contract yet"
    if contract.account.balance < 0:
        return f"the balance is negative ({contract.account.balance} minor units): settle first"
    return None


def _has_email_or_phone(root, instance):
    subscriber = subscriber_of(root, instance)
    if subscriber is None or not (subscriber.email or subscriber.phone):
        return "the subscriber has neither e-mail nor phone"
    return None


register_condition("has_contract", _has_contract)
register_condition("balance_not_negative", _balance_not_negative)
register_condition("has_email_or_phone", _has_email_or_phone)


# -- actions -----------------------------------------------------------------
def _create_contract(root, instance, argument, user, cause):
    if contract_of(root, instance) is not None:
        return
    subscriber = subscriber_of(root, instance)
    if subscriber is None:
        raise WorkflowRefused("the request names no subscriber")
    contract = subscriber.new_contract(status="draft", user=user)
    instance.contract = contract.number


def _set_status(status):
    def run(root, instance, argument, user, cause):
        contract = _need_contract(root, instance)
        contract.set_status(status, f"{instance.definition.title} {instance.__name__}", user)
    return run


def _charge_once(root, instance, argument, user, cause):
    values = dict(argument)
    contract = _need_contract(root, instance)
    contract.account.post(-to_minor(values["amount"], contract.account.currency), "charge",
                          cause, text=str(values.get("text", instance.definition.title))[:120],
                          user=user)


def _check_charge(argument):
    if not isinstance(argument, dict) or "amount" not in argument:
        return "{amount: '500.00', text: ...} expected"
    try:
        if to_minor(str(argument["amount"])) <= 0:
            return "the amount is positive"
    except MoneyError as exc:
        return str(exc)
    return None


def _notify(root, instance, argument, user, cause):
    subscriber = subscriber_of(root, instance)
    if subscriber is not None:
        queue_notice(root.outbox, cause, subscriber,
                     {"event": argument, "request": instance.__name__,
                      "process": instance.definition.title,
                      "state": instance.definition.state(instance.state).title})


def _check_notify(argument):
    return None if isinstance(argument, str) and argument else "the name of a template expected"


def _apply_tariff(root, instance, argument, user, cause):
    contract = _need_contract(root, instance)
    service = contract.get(instance.value("service", ""))
    tariff = root["tariffs"].get(instance.value("tariff", "")) if "tariffs" in root else None
    book = current_registry().queryUtility(ITariffBook)
    if service is None or tariff is None or book is None:
        raise WorkflowRefused("the request names no service and tariff that exist")
    book.change(root, service, tariff, user=user, next_period=bool(instance.value("next_period")))


register_action("create_contract", _create_contract)
register_action("activate_contract", _set_status("active"))
register_action("terminate_contract", _set_status("terminated"))
register_action("charge_once", _charge_once, _check_charge)
register_action("notify", _notify, _check_notify)
register_action("apply_tariff", _apply_tariff)
