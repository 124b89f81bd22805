from portmonet import evolve


def test_queue_once_per_key_and_due_reads_only_pending(root):
    box = root.outbox
    first = box.queue("radius", "block:1", {"action": "disconnect", "login": "a"})
    assert box.queue("radius", "block:1", {"action": "disconnect", "login": "zzz"}) is first
    second = box.queue("radius", "block:2", {"action": "disconnect", "login": "b"})
    box.queue("mail", "paid:1", {"to": "a@example.net"})
    assert box.due("radius") == [first, second]
    first.sent("ACK")
    assert box.due("radius") == [second] and len(box.pending) == 2
    second.failed("no answer", retry_in_s=60)
    assert box.due("radius") == []                          # not due yet
    assert box.due("radius", now=second.next_try_us) == [second]
    for _ in range(20):
        second.failed("no answer", max_attempts=3)
    assert second.state == "given-up" and box.due("radius", now=2 ** 62) == []
    assert [m.key for m in box.due("mail")] == ["paid:1"]


def test_old_outbox_gains_the_pending_index(root, tm):
    box = root.outbox
    done = box.queue("radius", "k1", {"action": "coa", "login": "a"})
    waiting = box.queue("radius", "k2", {"action": "coa", "login": "b"})
    done.sent()
    del box.pending                                         # the shape before the index
    box.__dict__.pop("pending", None)
    name = "2026-11-25-core-03-outbox-pending-index"
    root.evolved.remove(name)
    tm.commit()
    assert evolve.run(root, tm=tm) == [name]
    assert box.due("radius") == [waiting]
