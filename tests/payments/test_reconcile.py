"""Received vs booked: reconciliation and the books check catch differences."""
from portmonet.ops.check import check_books
from portmonet.payments.clock import day_of, now_us
from portmonet.payments.credit import credit
from portmonet.payments.reconcile import compare_register, reconcile

from .conftest import add_subscriber


def test_reconcile_and_check_find_differences(root, tm):
    account = add_subscriber(root, "Titov").account
    credit(root, account, 1000, "osmp", "t", "1")
    credit(root, account, 2500, "osmp", "t", "2")
    today = day_of(now_us())
    result = reconcile(root, "osmp", today)
    assert (result["received"], result["received_sum"], result["booked_sum"]) == (2, 3500, 3500)
    assert result["differences"] == []
    assert check_books(root, root._p_jar).ok
    diffs = compare_register(root, "osmp", "t", today, [("1", account.number, 1000),
                                                        ("2", account.number, 2400),
                                                        ("3", account.number, 100)])
    assert diffs == [("2", "amounts differ", 2400, 2500),
                     ("3", "in their register, not in ours", 100, None)]
    # A payment booked behind the register's back, and a row without a posting.
    account.post(700, "payment", "osmp:t:sneaky")
    root["payments"].register.add("osmp", "osmp:t:ghost", account.number, 900, "t", "ghost",
                                  now_us())
    report = check_books(root, root._p_jar)
    assert not report.ok
    assert any("osmp:t:ghost" in p for p in report.problems)
    assert any("osmp:t:sneaky" in p and "booked, not received" in p for p in report.problems)
    assert [d[0] for d in reconcile(root, "osmp", today)["differences"]] == ["osmp:t:ghost"]
    tm.abort()


def test_payment_to_terminated_contract_and_agent_account_refused(root, tm):
    from portmonet.payments.agents import OsmpAgent
    from portmonet.payments import osmp
    agent = root["payments"].add_agent(OsmpAgent("a1", ["127.0.0.1"]), root.catalog)
    contract = add_subscriber(root, "Ushakov")
    contract.set_status("terminated", "moved away")
    ans = osmp.pay(root, agent, {"txn_id": "1", "account": contract.account.number, "sum": "5"})
    assert ans.result == 79
    ans = osmp.pay(root, agent, {"txn_id": "2", "account": agent.account.number, "sum": "5"})
    assert ans.result == 5          # an agent's own account takes no payments
