"""Delivery reports from the SMS gateway (SMPP deliver_sm receipts, the
HTTP gateway's callback): the message the report is about gets its
``delivery`` state.  The gateway's id of each sent message is kept in
``root["notify"].receipts`` by the transaction that records it sent."""

STATES = {"DELIVRD": "delivered", "DELIVERED": "delivered", "UNDELIV": "undeliverable",
          "UNDELIVERABLE": "undeliverable", "EXPIRED": "expired", "REJECTD": "rejected",
          "REJECTED": "rejected", "DELETED": "deleted", "UNKNOWN": "unknown",
          "ACCEPTD": "accepted", "ENROUTE": "en route", "FAILED": "undeliverable"}


def remember(root, gateway, ext_ids, key):
    receipts = root["notify"].receipts
    for ext_id in ext_ids or ():
        receipts[(gateway, str(ext_id))] = key


def record(root, gateway, ext_id, status):
    """Put a report on its message; returns the message (None: unknown id)."""
    key = root["notify"].receipts.get((gateway, str(ext_id)))
    message = root.outbox.keys.get(key) if key is not None else None
    if message is not None:
        state = STATES.get(str(status).upper(), str(status).lower()[:40])
        if message.delivery != state:
            message.delivery = state
    return message
