"""The v2 `listings` snapshot (data contract, "Added in v2"): its columns, types and key as the loader reads them."""

from datetime import datetime

from dsa_report.ingest import loader, sources

HEADER = ("item_id,trader_id,category,listed_at,shows_trader_info,has_economic_operator,"
          "has_product_identification,has_required_labelling,labelling_required,random_check_at")


def test_listings_load_with_nullable_flags_and_a_required_item_id(tmp_path):
    folder = tmp_path / "src" / "listings"
    folder.mkdir(parents=True)
    (folder / "listings.csv").write_text(
        HEADER + "\n"
        "I1,T1,STATEMENT_CATEGORY_UNSAFE_AND_ILLEGAL_PRODUCTS,2025-07-01,Yes,true,1,,,2025-09-01T10:00:00Z\n"
        "I2,T1,,2025-07-02 08:00:00,false,,0,false,true,\n"
        ",T2,,2025-07-03,true,true,true,true,true,\n"  # no item_id: quarantined
        "I3,T2,,not a date,true,true,true,true,true,\n",  # unparseable timestamp: quarantined
        encoding="utf-8")
    data = loader.load(sources.collect(str(tmp_path / "src"), tmp_path / "work"), loader.connect(),
                       platform_names=None)
    assert data.datasets["listings"].rows == 2
    assert data.con.execute("SELECT * FROM listings ORDER BY item_id").fetchall() == [
        ("I1", "T1", "STATEMENT_CATEGORY_UNSAFE_AND_PROHIBITED_PRODUCTS", datetime(2025, 7, 1), True, True, True,
         None, None, datetime(2025, 9, 1, 10)),
        ("I2", "T1", None, datetime(2025, 7, 2, 8), False, None, False, False, True, None),
    ]
    assert data.quality["listings"]["quarantined_rows"] == 2
