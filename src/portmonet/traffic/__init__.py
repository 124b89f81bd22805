"""Traffic from flow exporters: NetFlow v5/v9 and IPFIX (``docs/traffic.md``).

``portmonet flows`` (:mod:`.collector`) receives export packets from the
exporters registered under ``/traffic/exporters`` (:mod:`.model`), decodes
them (:mod:`.decode`), finds whose address each flow's inside end is
(:mod:`.attribution`), classes the other end by the operator's prefix lists
(:mod:`.classes`), sums them per minute in memory (:mod:`.window`) and
commits the sums as usage records for the rater and hourly series
(:mod:`.store`).
"""


def includeme(config):
    """The feature list's hook: traffic has no pages, panels or event
    subscribers yet (docs/traffic.md, "What is left"); its commands and
    the ``portmonet flows`` process come with it."""
