"""Notifications: e-mail, SMS and the office inbox from the outbox.

Deciders (billing, payments, the wallet, a mass mailing) queue messages in
the outbox channels ``mail``, ``sms`` and ``office`` inside their own
transaction; ``portmonet notify`` (a ZEO client process of its own) takes
them after that transaction committed, renders the event's template in the
subscriber's language, sends, and records the result (docs/notifications.md).
"""
