"""Marketplace design duties: the trader's identity shown with each listing (Art. 30(7)), a listing form that
lets traders give what Art. 31(1)-(2) asks for, and the information actually present in live listings with
random checks (Art. 31(3)). Reads the `listings` snapshot (every row is a live listing at period end) and
the `listing_interface` register."""

from __future__ import annotations

from datetime import timedelta

from ...engine.context import Context
from ...engine.outcome import Outcome, finish, metric
from ...engine.registry import rule
from ..wording import num, pct, plural

# The listing form's fields the contract names -> what Art. 31 asks the interface to let traders provide.
INTERFACE_FIELDS = {
    "economic_operator_contact": "name, address, telephone and e-mail of the economic operator (31(1))",
    "product_identification": "clear and unambiguous identification of the product (31(2)(a))",
    "trader_sign": "sign identifying the trader: trademark, symbol or logo (31(2)(b))",
    "safety_labelling": "labelling and marking required by product-safety law (31(2)(c))",
}
# The data Art. 31(1)-(2) calls for in a listing, as the listings snapshot flags it (true / false / null).
LISTING_DATA = ("economic_operator_contact", "product_identification", "required_labelling")


@rule("trader_info_shown")
def trader_info_shown(ctx: Context, p: dict) -> Outcome:
    """Per trader, the live listings whose shows_trader_info is not true: false, or null (unknown is never
    shown), most such listings first."""
    rows = ctx.query(
        """
        SELECT trader_id, count(*) AS live,
               count(*) FILTER (WHERE shows_trader_info IS NOT TRUE) AS hidden,
               count(*) FILTER (WHERE shows_trader_info IS NULL) AS unknown,
               list_slice(list(item_id ORDER BY item_id) FILTER (WHERE shows_trader_info IS NOT TRUE), 1, 5)
        FROM listings GROUP BY trader_id
        """
    )
    live = sum(r[1] for r in rows)
    offending = sorted((r for r in rows if r[2]), key=lambda r: (-r[2], r[0] is None, r[0] or ""))
    hidden, unknown = sum(r[2] for r in offending), sum(r[3] for r in offending)
    items = [{"trader_id": t, "listings_not_showing": h, "of_which_unknown": u, "live_listings": n,
              "example_items": examples} for t, n, h, u, examples in offending]
    unknown_text = f" ({num(unknown)} of them with the flag unknown)" if unknown else ""
    return finish(
        "FAIL" if hidden else "PASS",
        f"Live listings at period end not showing the trader's name, address, telephone, e-mail, "
        f"self-certification and trade register details (Art. 30(7)): {num(hidden)} of {num(live)}"
        f"{unknown_text}, from {plural(len(items), 'trader')}.",
        metric=metric("trader_info_shown_share", (live - hidden) / live, "share", "==", 1),
        items=items,
        listings=hidden,
        unknown=unknown,
        live_listings=live,
    )


@rule("interface_fields")
def interface_fields(ctx: Context, p: dict) -> Outcome:
    entries = ctx.data.registers.get("listing_interface", [])
    declared = entries[0].get("fields") if entries and isinstance(entries[0], dict) else None
    listed = isinstance(declared, list)
    fields = {str(f) for f in declared} if listed else set()
    missing = [name for name in INTERFACE_FIELDS if name not in fields]
    items = [{"field": name, "requirement": INTERFACE_FIELDS[name]} for name in missing]
    what = "The listing_interface register lists no fields of the listing form" if not listed else (
        f"The listing form lacks {len(missing)} of the {len(INTERFACE_FIELDS)} fields Art. 31(1)-(2) asks for"
        if missing else f"The listing form has all {len(INTERFACE_FIELDS)} fields Art. 31(1)-(2) asks for")
    return finish(
        "FAIL" if missing else "PASS",
        what + (f"; missing: {', '.join(missing)}." if missing else "."),
        metric=metric("listing_interface_fields_missing", len(missing), "count", "==", 0),
        items=items,
        other_fields=sorted(fields - set(INTERFACE_FIELDS)),
    )


_PRE_LISTING_SQL = """
SELECT item_id, trader_id, has_economic_operator, has_product_identification,
       CASE WHEN labelling_required IS FALSE THEN TRUE ELSE has_required_labelling END AS labelling
FROM listings
WHERE has_economic_operator IS NOT TRUE OR has_product_identification IS NOT TRUE
   OR (labelling_required IS NOT FALSE AND has_required_labelling IS NOT TRUE)
"""


@rule("pre_listing")
def pre_listing(ctx: Context, p: dict) -> Outcome:
    """Live listings lacking the Art. 31(1)-(2) data (false) or where it is unknown (null); labelling is owed
    unless labelling_required is false. Unknown never helps: the share compared with max_share counts both.
    Random checks: the share of live listings with random_check_at in the 365 days before period end."""
    end = ctx.bounds[1]
    lacking, unknown = [], []
    for item_id, trader_id, *flags in ctx.query(_PRE_LISTING_SQL):
        item = {"item_id": item_id, "trader_id": trader_id,
                "missing": [n for n, f in zip(LISTING_DATA, flags, strict=True) if f is False],
                "unknown": [n for n, f in zip(LISTING_DATA, flags, strict=True) if f is None]}
        (lacking if item["missing"] else unknown).append(item)
    lacking.sort(key=lambda i: (-len(i["missing"]), -len(i["unknown"]), i["item_id"]))
    unknown.sort(key=lambda i: (-len(i["unknown"]), i["item_id"]))
    ((live, checked),) = ctx.query(  # a random check counts for 365 days (the rule's reading of "randomly")
        "SELECT count(*), count(*) FILTER (WHERE random_check_at >= $since AND random_check_at < $end) "
        "FROM listings", {"since": end - timedelta(days=365), "end": end})
    share = (len(lacking) + len(unknown)) / live
    checked_share = checked / live
    too_many, too_few = share > p["max_share"], checked_share < p["min_checked_share"]
    unchecked = ctx.data.missing("listings", ["random_check_at"])
    message = (
        f"Live listings at period end lacking the economic operator's contact, product identification or "
        f"required labelling (Art. 31(1)-(2)): {num(len(lacking))} of {num(live)}, unknown for "
        f"{num(len(unknown))} more: {pct(share)} together (internal threshold {pct(p['max_share'])}); "
    )
    if unchecked:
        message += "random checks cannot be verified (column listings.random_check_at absent)."
    else:
        message += (f"randomly checked in the 365 days before period end: {pct(checked_share)} (internal "
                    f"threshold {pct(p['min_checked_share'])}).")
    evidence = dict(lacking=len(lacking), unknown=len(unknown), live_listings=live,
                    checked_share=None if unchecked else checked_share)
    if unchecked and not too_many:
        outcome = finish("INSUFFICIENT_DATA", message, items=lacking + unknown, **evidence)
        outcome.missing = unchecked
        return outcome
    return finish(
        "WARN" if too_many or (too_few and not unchecked) else "PASS",
        message,
        metric=metric("listings_lacking_information_share", share, "share", "<=", p["max_share"]),
        items=lacking + unknown,
        **evidence,
    )
