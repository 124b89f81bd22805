import pytest

from portmonet.model.folder import FolderKeyError
from portmonet.model.services import TelephoneLine

from helpers import make_subscriber


def test_small_folder_moves_into_btree(root):
    sub, contract, _ = make_subscriber(root)
    assert contract._btree is None
    lines = [contract.add_service(TelephoneLine(f"7495000{i:04d}")) for i in range(contract.small_max + 3)]
    assert contract._btree is not None and contract._small == ()
    assert len(contract) == len(lines)
    assert [contract[s.__name__] for s in lines] == lines
    assert all(s.__parent__ is contract for s in lines)
    assert sorted(contract.keys()) == list(contract.keys())
    contract.remove(lines[0].__name__)
    assert lines[0].__name__ not in contract
    assert root.catalog.lines.get(lines[0].number) is None


def test_duplicate_and_bad_names(root):
    sub, contract, _ = make_subscriber(root)
    with pytest.raises(FolderKeyError):
        sub.add(contract.number, contract)
    assert sub.get("no-such") is None
    assert root["subscribers"].get("abc") is None
    assert contract["account"] is contract.account


def test_counted_folder_len(root):
    for i in range(5):
        make_subscriber(root, f"S{i}")
    assert len(root["subscribers"]) == 5


def test_folder_reads_the_old_data_attribute(root):
    from portmonet.model.folder import Folder
    old = Folder()
    old.add("x", Folder())
    state = old.__getstate__()
    state["data"] = state.pop("_btree")          # the shape written before 0.1
    reborn = Folder.__new__(Folder)
    reborn.__setstate__(state)
    assert list(reborn.keys()) == ["x"] and reborn["x"].__name__ == "x"
