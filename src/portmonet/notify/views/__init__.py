"""The notifications pages: the office inbox, the message log with the dead
letters, the template editor, mass mailings and the SMS gateway's
delivery-report callback.  Permissions are granted here (web/acl.py)."""
from ...web import acl

acl.grant("administrator", "view_notifications", "manage_templates", "send_mailings",
          doc="notifications: see the message log; edit templates; send mass mailings")
acl.grant("manager", "view_notifications", "send_mailings")
acl.grant("auditor", "view_notifications")
