"""The copies of the contract files in tests/fixtures are the contract's own, byte for byte: compared with
../shared when the checkout sits beside it (as in CI), else with the digests recorded when they were copied
(`fixtures/contract-copies.sha256`, which the comparison with ../shared keeps true)."""

import hashlib

from contract_files import COPIES, FIXTURES, SHARED, TDB_SAMPLES

RECORDED = {
    FIXTURES / name: digest
    for digest, name in (line.split() for line in (FIXTURES / "contract-copies.sha256").read_text().splitlines())
}


def _digest(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_the_copies_are_the_contracts_files():
    assert set(RECORDED) == set(COPIES) and len(list(TDB_SAMPLES.glob("*.csv"))) == 4
    for copy, original in COPIES.items():
        expected = _digest(original) if SHARED.is_dir() else RECORDED[copy]
        assert _digest(copy) == expected, f"{copy} differs from {original}"
        assert RECORDED[copy] == expected, f"the recorded digest of {copy} is stale"
    if SHARED.is_dir():
        originals = {f.name for f in (SHARED / "data" / "tdb-samples").glob("*.csv")}
        assert originals == {f.name for f in TDB_SAMPLES.glob("*.csv")}
