"""The copies of the contract files in tests/fixtures are the contract's own, byte for byte."""

import pytest

from contract_files import COPIES, SHARED, TDB_SAMPLES


def test_the_copies_are_the_contracts_files():
    assert len(list(TDB_SAMPLES.glob("*.csv"))) == 4
    if not SHARED.is_dir():
        pytest.skip("../shared is not beside this checkout: the copies cannot be compared here")
    for copy, original in COPIES.items():
        assert copy.read_bytes() == original.read_bytes(), f"{copy} differs from {original}"
    originals = {f.name for f in (SHARED / "data" / "tdb-samples").glob("*.csv")}
    assert originals == {f.name for f in TDB_SAMPLES.glob("*.csv")}
