"""The discount groups a contract may be put in: those the tariffs name."""


def known_discount_groups(root):
    """Sorted names of the groups that some tariff version's discount is for."""
    groups = set()
    for tariff in root["tariffs"].values():
        versions = getattr(tariff, "versions", None)
        if versions is None:
            continue
        for version in versions.values():
            groups.update(d.group for d in version.discounts if d.group)
    return sorted(groups)
