"""The live listings at period end (data contract v2, `listings/`), consistent with the other datasets.

A listing is live when its latest listing event up to period end is LISTED or REAPPEARED (items with a SoR that
only demoted or labelled them, items that came back under a new id), plus listings that never met moderation;
every one belongs to an ACTIVE trader with live listings, and no trader has more rows than its `live_listings`.
Planted: the traders whose KYBC record is incomplete show no trader information on their listings (Art. 30(7));
about 3% of listings lack product identification and 1% do not say whether they name the economic operator, so
DSA-31.3 warns; random checks reach about 8% of listings (above the internal threshold of 5%).
"""

from __future__ import annotations

import duckdb

from .files import Writer
from .roles import Cast
from .world import World

PLANTED_LISTINGS = 3  # listings of each KYBC-incomplete trader, none showing the trader's information
NO_PRODUCT_ID_EVERY, NO_PRODUCT_ID_AT = 37, 5  # listing n lacks product identification when n % 37 == 5
UNKNOWN_OPERATOR_EVERY, UNKNOWN_OPERATOR_AT = 97, 11  # has_economic_operator unknown (null)
NO_LABEL_EVERY, NO_LABEL_AT = 151, 3  # required labelling missing
CHECKED_EVERY, CHECKED_AT = 12, 4  # randomly checked in the last 300 days

_LISTINGS = """
CREATE TABLE listings AS
WITH eligible AS (
  SELECT trader_id, live_listings, row_number() OVER (ORDER BY trader_id) AS r, count(*) OVER () AS n
  FROM traders WHERE status = 'ACTIVE' AND live_listings > 0 AND NOT list_contains($hidden, trader_id)
), from_events AS (
  SELECT item_id, arg_max(trader_id, occurred_at) AS trader_id, arg_max(event, occurred_at) AS last_event,
    max(occurred_at) FILTER (WHERE event IN ('LISTED', 'REAPPEARED')) AS listed_at, any_value(category) AS category
  FROM listing_events WHERE occurred_at < pe_end() AND event <> 'BLOCKED_PRE_LISTING' GROUP BY item_id
), background AS (
  SELECT iid(9000000000 + i) AS item_id, e.trader_id, NULL AS category,
    pe_end() - secs(86400 * (1 + rnd(i, 'listed') * 400)) AS listed_at
  FROM (SELECT i, 1 + hash(i, seed(), 'listing-trader') % (SELECT max(n) FROM eligible) AS r
        FROM range($n_background) t(i)) b
  JOIN eligible e USING (r)  -- an equi-join: the modulus in the ON clause made it a nested loop
), candidates AS (
  SELECT item_id, trader_id, category, listed_at FROM from_events
  WHERE last_event IN ('LISTED', 'REAPPEARED') AND trader_id IN (SELECT trader_id FROM eligible)
  UNION ALL SELECT * FROM background
), capped AS (
  SELECT c.* FROM candidates c JOIN eligible e USING (trader_id)
  QUALIFY row_number() OVER (PARTITION BY c.trader_id ORDER BY c.item_id) <= e.live_listings
), planted AS (
  SELECT iid(9500000000 + 10 * h.k + j) AS item_id, h.trader_id, NULL AS category,
    pe_end() - secs(86400 * (1 + rnd(10 * h.k + j, 'planted-listed') * 200)) AS listed_at
  FROM (SELECT unnest($hidden) AS trader_id, generate_subscripts($hidden, 1) AS k) h, range($per_trader) r(j)
), numbered AS (
  SELECT *, row_number() OVER (ORDER BY item_id) AS n FROM (SELECT * FROM capped UNION ALL SELECT * FROM planted)
)
SELECT item_id, trader_id, category, listed_at,
  NOT list_contains($hidden, trader_id) AS shows_trader_info,
  CASE WHEN n % $unknown_every = $unknown_at THEN NULL ELSE true END AS has_economic_operator,
  n % $no_id_every <> $no_id_at AS has_product_identification,
  CASE WHEN rnd(n, 'labelling') < 0.4 THEN n % $no_label_every <> $no_label_at END AS has_required_labelling,
  rnd(n, 'labelling') < 0.4 AS labelling_required,
  CASE WHEN n % $checked_every = $checked_at THEN pe_end() - secs(86400 * (1 + rnd(n, 'checked') * 300))
  END AS random_check_at
FROM numbered ORDER BY item_id
"""

_OUT = """
SELECT item_id, trader_id, category, strftime(listed_at, '%Y-%m-%dT%H:%M:%SZ') AS listed_at, shows_trader_info,
  has_economic_operator, has_product_identification, has_required_labelling, labelling_required,
  strftime(random_check_at, '%Y-%m-%dT%H:%M:%SZ') AS random_check_at
FROM listings ORDER BY item_id
"""


def build(con: duckdb.DuckDBPyConnection, world: World, cast: Cast) -> dict[str, object]:
    """Create `listings` (after `traders` and `listing_events`); returns what was planted in it."""
    hidden = sorted(cast.kybc_missing)
    con.execute(_LISTINGS, {
        "hidden": hidden, "per_trader": PLANTED_LISTINGS, "n_background": max(500, world.scale // 10),
        "unknown_every": UNKNOWN_OPERATOR_EVERY, "unknown_at": UNKNOWN_OPERATOR_AT,
        "no_id_every": NO_PRODUCT_ID_EVERY, "no_id_at": NO_PRODUCT_ID_AT,
        "no_label_every": NO_LABEL_EVERY, "no_label_at": NO_LABEL_AT,
        "checked_every": CHECKED_EVERY, "checked_at": CHECKED_AT,
    })
    ((live, no_id, unknown),) = con.execute(
        "SELECT count(*), count(*) FILTER (WHERE NOT has_product_identification),"
        " count(*) FILTER (WHERE has_economic_operator IS NULL) FROM listings").fetchall()
    return {
        "live_listings": live,
        "listings_trader_info_hidden_traders": hidden,
        "listings_trader_info_hidden": len(hidden) * PLANTED_LISTINGS,
        "listings_without_product_identification": no_id,
        "listings_economic_operator_unknown": unknown,
    }


def write(con: duckdb.DuckDBPyConnection, world: World, writer: Writer) -> None:
    """One csv.gz snapshot at period end (booleans as true/false, unknown as an empty cell)."""
    writer.copy(_OUT, None, f"listings/snapshot={world.period_end.isoformat()}/listings.csv.gz")
