from zope.interface import Interface


class INotify(Interface):
    """``root["notify"]``: templates, office inboxes, mass mailings."""


class IMailing(Interface):
    """A mass mailing to a segment of subscribers."""
