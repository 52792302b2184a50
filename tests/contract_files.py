"""The contract files the tests read, copied into tests/fixtures so a clone runs its tests wherever it is;
`test_contract_copies.py` checks the copies against ../shared/ when the checkout sits beside it, else
against the digests recorded when they were copied (fixtures/contract-copies.sha256)."""

from pathlib import Path

FIXTURES = Path(__file__).parent / "fixtures"
SHARED = Path(__file__).resolve().parents[2] / "shared"
FINDINGS_SCHEMA = FIXTURES / "contract" / "findings.schema.json"  # shared/contracts/findings.schema.json
TDB_SAMPLES = FIXTURES / "tdb-samples"  # shared/data/tdb-samples: 200 real Transparency Database rows
COPIES = {FINDINGS_SCHEMA: SHARED / "contracts" / "findings.schema.json",
          **{f: SHARED / "data" / "tdb-samples" / f.name for f in TDB_SAMPLES.glob("*.csv")}}
