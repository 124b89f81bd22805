"""Process definitions, requests and moves on an in-memory database."""
import pytest
import transaction
from ZODB.POSException import ConflictError

from portmonet.model.subscriber import Subscriber
from portmonet.workflow import engine
from portmonet.workflow.actions import WorkflowRefused
from portmonet.workflow.definition import DefinitionError
from portmonet.workflow.library import builtin_texts, install, install_builtin, read

HOUR = 3_600_000_000
T0 = 1_800_000_000_000_000


@pytest.fixture
def flows(root):
    install_builtin(root)
    sub = root["subscribers"].add_subscriber(Subscriber("Petrova Olga", email="olga@example.net"))
    return root, sub


def test_builtin_processes_read_and_install(root):
    names = {read(text).name for _, text in builtin_texts()}
    assert names == {"connection-request", "tariff-change", "repair", "self-registration",
                     "termination"}
    install_builtin(root)
    assert {p.name for p in root["workflows"].processes()} == names
    process, version = install(root, dict(builtin_texts())["repair.yaml"])
    assert version == 1                       # the same text is not a new version


BAD = """\
process: broken
title: Broken
initial: start
states:
  start: {title: Start, sla: 2x}
  end: {title: End, final: true, sla: 1d}
  island: {title: Nobody comes here}
transitions:
  - {name: go, from: start, to: end, roles: [wizard], actions: [launch_rockets]}
  - {name: back, from: end, to: start, roles: [manager]}
"""


def test_a_bad_definition_is_refused_with_lines_and_reasons():
    with pytest.raises(DefinitionError) as refused:
        read(BAD)
    problems = "\n".join(refused.value.problems)
    assert "line 5: sla '2x'" in problems
    assert "line 6: state end: a final state has no sla" in problems
    assert "line 9: transition go: 'wizard' is not a role" in problems
    assert "line 9: transition go: unknown action 'launch_rockets'" in problems
    assert "line 10: transition back: leaves the final state 'end'" in problems
    assert "state island cannot be reached from start" in problems
    with pytest.raises(DefinitionError, match="line 2"):
        read("process: x\n  title: [unclosed\n")


def test_connection_request_end_to_end(flows):
    root, sub = flows
    r = engine.start(root, "connection-request", f"subscriber:{sub.id}", "office", when_us=T0)
    assert r.state == "new" and r.deadline_us == T0 + 24 * HOUR
    assert root["workflows"].requests.for_roles(["manager"]) == [r]
    assert root["workflows"].requests.for_roles(["cashier"]) == []
    with pytest.raises(WorkflowRefused, match="is for manager, administrator"):
        engine.take(root, r, "accept", "eng", ["engineer"])
    engine.take(root, r, "accept", "boss", ["manager"])
    contract = root.catalog.contracts.get(r.contract)
    assert contract.status == "draft" and r.state == "address-check"
    engine.take(root, r, "address-ok", "eng", ["engineer"])
    assert [m.payload["event"] for m in root.outbox.channels["mail"].values()] == \
        ["visit-planned"]
    engine.take(root, r, "installed", "eng", ["engineer"])
    charge = [p for p in contract.account.postings() if p.cause.startswith("workflow:")]
    assert [p.amount for p in charge] == [-50000]
    engine.take(root, r, "activate", "boss", ["manager"])
    assert contract.status == "active" and r.state == "active" and not r.open
    assert [h[2] for h in r.history] == ["start", "accept", "address-ok", "installed", "activate"]
    assert root["workflows"].requests.for_roles(["manager", "engineer"]) == []
    assert root["workflows"].requests.open_count() == 0
    with pytest.raises(WorkflowRefused, match="already moved to 'Connected' by boss"):
        engine.take(root, r, "activate", "boss2", ["manager"])


def test_conditions_refuse(flows):
    root, sub = flows
    contract = sub.new_contract()
    contract.account.post(-100, "charge", "debt:1", "debt")
    r = engine.start(root, "termination", f"contract:{contract.number}", "boss")
    engine.take(root, r, "settle", "boss", ["manager"])
    with pytest.raises(WorkflowRefused, match="balance is negative"):
        engine.take(root, r, "terminate", "acc", ["accountant"])
    contract.account.post(100, "payment", "pay:1", "pay")
    engine.take(root, r, "terminate", "acc", ["accountant"])
    assert contract.status == "terminated"


def test_the_timer_escalates_once_and_takes_timeouts(flows):
    root, sub = flows
    late = engine.start(root, "repair", f"subscriber:{sub.id}", "office", when_us=T0)
    assert engine.sweep(root, now=T0 + 3 * HOUR) == (0, 0)
    assert engine.sweep(root, now=T0 + 5 * HOUR) == (0, 1)
    assert late.escalated and late.history[-1][2] == "escalate"
    assert late in root["workflows"].requests.for_roles(["manager"])
    assert engine.sweep(root, now=T0 + 50 * HOUR) == (0, 0)        # once
    engine.take(root, late, "take", "eng", ["engineer"], when_us=T0 + 51 * HOUR)
    engine.take(root, late, "fixed", "eng", ["engineer"], when_us=T0 + 52 * HOUR)
    assert late.state == "fixed" and not late.escalated
    assert engine.sweep(root, now=T0 + 52 * HOUR + 73 * HOUR) == (1, 0)
    assert late.state == "closed" and late.history[-1][1] == engine.TIMER


def test_expected_state_refuses_a_move_made_in_between(flows):
    root, sub = flows
    r = engine.start(root, "repair", f"subscriber:{sub.id}", "office")
    engine.take(root, r, "take", "eng1", ["engineer"], expected_state="open")
    with pytest.raises(WorkflowRefused, match="already moved to 'Engineer working' by eng1"):
        engine.take(root, r, "take", "eng2", ["engineer"], expected_state="open")


def test_two_employees_at_once_one_wins(db):
    """The same transition committed from two connections: ZODB refuses the
    second; retried, it is told who moved the request first."""
    from portmonet import db as dbmod
    from portmonet.model.root import get_root, install as install_root

    def setup(root):
        install_builtin(root)
        sub = root["subscribers"].add_subscriber(Subscriber("Sidorov Ivan"))
        return engine.start(root, "repair", f"subscriber:{sub.id}", "office").__name__
    tm0 = transaction.TransactionManager()
    c0 = db.open(transaction_manager=tm0)
    install_root(c0.root())
    tm0.commit()
    c0.close()
    key = dbmod.transact(db, setup, "test", "setup")
    tms = [transaction.TransactionManager() for _ in range(2)]
    conns = [db.open(transaction_manager=tm) for tm in tms]
    requests = [get_root(c.root())["workflows"].requests[key] for c in conns]
    for request, login in zip(requests, ("eng1", "eng2")):
        engine.take(get_root(request._p_jar.root()), request, "take", login, ["engineer"],
                    expected_state="open")
    tms[0].commit()
    with pytest.raises(ConflictError):
        tms[1].commit()
    tms[1].abort()
    root1 = get_root(conns[1].root())
    with pytest.raises(WorkflowRefused, match="by eng1"):
        engine.take(root1, root1["workflows"].requests[key], "take", "eng2", ["engineer"],
                    expected_state="open")
    tms[1].abort()
    for c in conns:
        c.close()
