"""Every transaction says who did it and why, so ZODB history is an audit trail."""


def describe(txn, user, note):
    """Set the transaction's user (a staff login, a process name) and note."""
    txn.user = str(user)
    txn.note(str(note))
    return txn
