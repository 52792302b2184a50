"""The generator's DuckDB session: sizes of the synthetic world, its constants and SQL macros.

Randomness is `hash(key, seed, salt)`: the same key, seed and salt give the same value whatever the thread
count or row order. Constants reach SQL as DuckDB variables (`SET VARIABLE x = ?`, bound), read back with
`getvariable('x')` through the short macros defined here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

import duckdb

from . import vocab

HISTORY_DAYS = 365
PLANTED_TRADERS = 14  # trader indices 0..13 play planted roles; the background uses the others
TEXT_SLOTS = 6  # per-category lists are cycled to this length (lists of 1, 2 or 3 stay uniform)
_TRADER_MULT, _TRADER_SPACE = 387_433, 1_000_000  # coprime with 10**6: idx -> id is a bijection


@dataclass(frozen=True)
class World:
    seed: int
    period_start: date
    period_end: date
    platform: str
    scale: int
    now: datetime | None = None  # nothing is dated after it (None: no limit)

    @property
    def days(self) -> int:
        return (self.period_end - self.period_start).days + 1

    @property
    def end(self) -> datetime:
        """Exclusive end of the period: a timestamp ts is in it when start <= ts < end."""
        return datetime.combine(self.period_end + timedelta(days=1), time())

    @property
    def history_start(self) -> date:
        return self.period_start - timedelta(days=HISTORY_DAYS)

    @property
    def slug(self) -> str:
        return "".join(c if c.isalnum() else "-" for c in self.platform.lower()).strip("-") or "platform"

    @property
    def n_traders(self) -> int:
        return min(250_000, max(200, self.scale // 10))

    @property
    def n_history(self) -> int:
        return self.scale // 5

    @property
    def n_hidden_links(self) -> int:
        return max(25, self.scale // 400)

    @property
    def n_notifiers(self) -> int:
        return max(200, self.scale // 5)

    def trader_id(self, idx: int) -> str:
        return f"T-{(idx * _TRADER_MULT + self.seed * 104_729 + 1) % _TRADER_SPACE:06d}"


def month_bounds(label: str) -> tuple[datetime, datetime]:
    """`YYYY-MM` -> (first instant, first instant of the next month)."""
    year, month = int(label[:4]), int(label[5:7])
    return datetime(year, month, 1), datetime(year + month // 12, month % 12 + 1, 1)


_WEIGHTED = {
    "source_of": vocab.SOURCES, "other_source_of": vocab.OTHER_NOTICE_SOURCES,
    "illegal_category_of": vocab.ILLEGAL_CATEGORIES, "tc_category_of": vocab.INCOMPATIBLE_CATEGORIES,
    "visibility_of": vocab.VISIBILITY, "content_type_of": vocab.CONTENT_TYPES, "language_of": vocab.LANGUAGES,
    "country_of": vocab.TRADER_COUNTRIES, "voluntary_automation_of": vocab.VOLUNTARY_AUTOMATION,
    "notice_automation_of": vocab.NOTICE_AUTOMATION,
}

_MACROS = (
    "CREATE MACRO seed() AS getvariable('seed')",
    "CREATE MACRO ps() AS getvariable('ps')",
    "CREATE MACRO pe() AS getvariable('pe')",
    "CREATE MACRO pe_end() AS getvariable('pe_end')",
    "CREATE MACRO hist_start() AS getvariable('hist_start')",
    "CREATE MACRO days() AS getvariable('days')",
    # a time after the export (`now`) has not happened yet: null
    "CREATE MACRO by_now(ts) AS CASE WHEN ts <= getvariable('now') THEN ts END",
    # uniform in [0, 1) from a key and a salt
    "CREATE MACRO rnd(k, salt) AS (hash(k, getvariable('seed'), salt) % 1000000) / 1000000.0",
    # one of the n items of a list (n passed: len() per row costs more than the rest of the query)
    "CREATE MACRO pick(items, n, k, salt) AS items[1 + (hash(k, getvariable('seed'), salt) % n)::INTEGER]",
    "CREATE MACRO cat_no(category) AS list_position(getvariable('categories'), category)",
    "CREATE MACRO cat_pick(name, cat, k, salt) AS"
    " getvariable(name)[cat][1 + (hash(k, getvariable('seed'), salt) % 6)::INTEGER]",
    "CREATE MACRO secs(x) AS to_seconds(floor(x)::BIGINT)",
    "CREATE MACRO fmt_ts(ts) AS strftime(ts, '%Y-%m-%d %H:%M:%S')",
    "CREATE MACRO iso_ts(ts) AS strftime(ts, '%Y-%m-%dT%H:%M:%SZ')",
    "CREATE MACRO tid(idx) AS 'T-' || lpad(((idx * getvariable('trader_mult') + getvariable('seed') * 104729 + 1)"
    " % getvariable('trader_space'))::VARCHAR, 6, '0')",
    "CREATE MACRO iid(n) AS 'I-' || lpad(n::VARCHAR, 10, '0')",
    "CREATE MACRO nid(n) AS 'N-' || lpad(n::VARCHAR, 10, '0')",
    "CREATE MACRO notifier_of(source, k) AS CASE source"
    " WHEN 'SOURCE_ARTICLE_16'"
    " THEN 'NTF-' || lpad(floor(rnd(k, 'ntf') * getvariable('n_notifiers'))::BIGINT::VARCHAR, 7, '0')"
    " WHEN 'SOURCE_TRUSTED_FLAGGER' THEN 'TF-' || lpad((1 + hash(k, getvariable('seed'), 'tf') % 8)::VARCHAR, 3, '0')"
    " WHEN 'SOURCE_TYPE_OTHER_NOTIFICATION'"
    " THEN 'AUTH-' || lpad((1 + hash(k, getvariable('seed'), 'auth') % 12)::VARCHAR, 3, '0') END",
    # background trader index: skewed (power > 1 gives a few heavy traders)
    "CREATE MACRO bg_trader(k, salt, power) AS tid(getvariable('planted_traders')"
    " + floor((getvariable('n_traders') - getvariable('planted_traders')) * pow(rnd(k, salt), power))::BIGINT)",
)


def _choice_macro(name: str, size: int) -> str:
    """A CASE over the cumulative shares of a weighted vocabulary: far faster than list functions."""
    whens = " ".join(f"WHEN u < getvariable('{name}_c')[{i}] THEN getvariable('{name}_v')[{i}]"
                     for i in range(1, size))
    return f"CREATE MACRO {name}(u) AS CASE {whens} ELSE getvariable('{name}_v')[{size}] END"


def connect(world: World) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB session with the world's variables and macros."""
    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")
    variables: dict[str, object] = {
        "seed": world.seed, "ps": world.period_start, "pe": world.period_end, "pe_end": world.end,
        "hist_start": world.history_start, "days": world.days, "n_traders": world.n_traders,
        "n_notifiers": world.n_notifiers, "now": world.now or datetime(9999, 12, 31),
        "planted_traders": PLANTED_TRADERS, "trader_mult": _TRADER_MULT, "trader_space": _TRADER_SPACE,
        "v2_since": datetime.combine(vocab.V2_SINCE, time()), "platform": world.platform,
        "terms_url": f"https://www.{world.slug}.example/terms",
        "eu27_json": "[" + ",".join(f'"{c}"' for c in vocab.EU27) + "]", "eu27": list(vocab.EU27),
        "visibility_other": list(vocab.VISIBILITY_OTHER_TEXTS), "tc_grounds": list(vocab.TC_GROUNDS),
        "content_type_other": vocab.CONTENT_TYPE_OTHER_TEXT, "hidden_link_facts": list(vocab.HIDDEN_LINK_FACTS),
    }
    for name, value in (variables | _category_variables()).items():
        con.execute(f"SET VARIABLE {name} = ?", [value])
    con.execute("SET VARIABLE seed = getvariable('seed')::BIGINT")
    for sql in _MACROS:
        con.execute(sql)
    for name, pairs in _WEIGHTED.items():
        values, shares = vocab.cumulative(pairs)
        con.execute(f"SET VARIABLE {name}_v = ?", [values])
        con.execute(f"SET VARIABLE {name}_c = ?", [shares])
        con.execute(_choice_macro(name, len(values)))
    return con


def _padded(texts: tuple, size: int = TEXT_SLOTS) -> list:
    """Cycle a list to `size` entries, so `cat_pick(...)` needs no per-row length."""
    return [texts[i % len(texts)] for i in range(size)]


def _category_variables() -> dict[str, object]:
    """Per-category values as lists indexed by `cat_no` (position in vocab.CATEGORY_TEXTS, 1-based).

    The legal ground, explanation and keyword come from one triple: pick them with the same salt.
    """
    rows = list(vocab.CATEGORY_TEXTS.values())
    return {
        "categories": list(vocab.CATEGORY_TEXTS),
        "v1_keys": [vocab.V1_KEYS.get(cat) for cat in vocab.CATEGORY_TEXTS],
        "cat_hours": [float(hours) for hours, *_ in rows],
        **{name: [_padded(tuple(t[i] for t in grounds)) for _, grounds, _, _ in rows]
           for i, name in enumerate(("legal", "explanation", "keyword"))},
        "tc_explanation": [_padded(texts) for _, _, texts, _ in rows],
        "facts": [_padded(facts) for *_, facts in rows],
        "notice_facts": [vocab.NOTICE_FACTS[s] for s, _ in vocab.SOURCES[:3]],
    }
