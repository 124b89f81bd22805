"""An older database gets the rating and billing folders from ``evolve``."""
from portmonet import evolve


def test_old_database_is_evolved(root, tm):
    for name in ("rating", "billing"):
        root.remove(name)
    for step in ("2026-11-25-rating-01-rating-folder", "2026-11-25-billing-01-billing-folder"):
        root.evolved.remove(step)
    tm.commit()
    assert "rating" not in root
    done = evolve.run(root, tm=tm)
    assert done == ["2026-11-25-billing-01-billing-folder", "2026-11-25-rating-01-rating-folder"]
    assert root["rating"].__parent__ is root and root["billing"].next_invoice == 1
    assert evolve.run(root, tm=tm) == []
