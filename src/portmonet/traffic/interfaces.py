from zope.interface import Interface


class ITraffic(Interface):
    """``/traffic``: exporters, traffic classes, series of what was counted."""


class IExporters(Interface):
    """``/traffic/exporters``."""


class IExporter(Interface):
    """A flow exporter (router, BRAS, softflowd on a gateway)."""
