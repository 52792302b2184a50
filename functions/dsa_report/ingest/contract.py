"""The datasets of the input data contract and the tables they become in DuckDB.

One `Column` per engine column: how it is read (`kind`), whether a row without it is quarantined
(`required`), and which values are allowed (`allowed`). Text fields that only matter for completeness
checks are kept as presence flags (`has_<column>`), never as text: no personal data reaches the engine.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# kinds: text | timestamp | bool | int | number (decimal) | month
#        | presence (TRUE when filled, FALSE when empty, NULL when the column is absent from the file)
#        | lists (TRUE when the input list holds `value`; the list is JSON text in CSV, a native list in
#          JSONL/Parquet; the list itself is neither parsed nor kept: at 12 M SoRs that cost 10 s of 47)


@dataclass(frozen=True)
class Column:
    name: str
    kind: str = "text"
    required: bool = False
    allowed: frozenset[str] | None = None
    source: str | None = None  # input column name when it differs (presence and lists flags)
    value: str | None = None  # the list value a `lists` flag looks for
    kept: bool = True  # False: checked on every row (e.g. a required key) but not stored (no rule reads it)

    @property
    def input_name(self) -> str:
        return self.source or self.name


@dataclass(frozen=True)
class Dataset:
    name: str
    columns: tuple[Column, ...]
    key: tuple[str, ...] = field(default=())
    dedupe_by: str | None = None  # rows sharing `key` are duplicates: the one with the earliest value of
    #                                this column is kept (SoRs: `created_at`, as the TDB keeps the first)
    month_by: str | None = None  # the required time that dates a row: the curated store's month partition;
    #                              None for a snapshot (traders, listings), which is read whole

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)


def _enum(*values: str) -> frozenset[str]:
    return frozenset(values)


SOURCE_TYPES = _enum(
    "SOURCE_ARTICLE_16", "SOURCE_TRUSTED_FLAGGER", "SOURCE_TYPE_OTHER_NOTIFICATION", "SOURCE_VOLUNTARY"
)
AUTOMATED_DECISIONS = _enum(
    "AUTOMATED_DECISION_FULLY", "AUTOMATED_DECISION_PARTIALLY", "AUTOMATED_DECISION_NOT_AUTOMATED"
)
DECISION_GROUNDS = _enum("DECISION_GROUND_ILLEGAL_CONTENT", "DECISION_GROUND_INCOMPATIBLE_CONTENT")

CATEGORIES_V2 = _enum(*(
    "STATEMENT_CATEGORY_" + c for c in (
        "ANIMAL_WELFARE", "CONSUMER_INFORMATION", "CYBER_VIOLENCE", "CYBER_VIOLENCE_AGAINST_WOMEN",
        "DATA_PROTECTION_AND_PRIVACY_VIOLATIONS", "ILLEGAL_OR_HARMFUL_SPEECH",
        "INTELLECTUAL_PROPERTY_INFRINGEMENTS", "NEGATIVE_EFFECTS_ON_CIVIC_DISCOURSE_OR_ELECTIONS",
        "NOT_SPECIFIED_NOTICE", "OTHER_VIOLATION_TC", "PROTECTION_OF_MINORS", "RISK_FOR_PUBLIC_SECURITY",
        "SCAMS_AND_FRAUD", "SELF_HARM", "UNSAFE_AND_PROHIBITED_PRODUCTS", "VIOLENCE",
    )
))
# v1 keys with a v2 successor are mapped; the others are kept as they are (never quarantined).
CATEGORY_V1_TO_V2 = {
    "STATEMENT_CATEGORY_UNSAFE_AND_ILLEGAL_PRODUCTS": "STATEMENT_CATEGORY_UNSAFE_AND_PROHIBITED_PRODUCTS",
    "STATEMENT_CATEGORY_SCOPE_OF_PLATFORM_SERVICE": "STATEMENT_CATEGORY_OTHER_VIOLATION_TC",
}
CATEGORIES_V1_ONLY = _enum(
    "STATEMENT_CATEGORY_PORNOGRAPHY_OR_SEXUALIZED_CONTENT", "STATEMENT_CATEGORY_NON_CONSENSUAL_BEHAVIOUR",
)
CATEGORIES = CATEGORIES_V2 | frozenset(CATEGORY_V1_TO_V2) | CATEGORIES_V1_ONLY

# Only the SoR columns some rule or metric reads are loaded (uuid, decision_provision, decision_account and
# content_date are in every dump but no obligation uses them: at 12 M rows uuid alone cost 6 s). The list
# columns matter only for the Art. 17(3) conditional fields: an `owes_*` flag says whether a list names the
# "other" value whose free-text field (`has_*`) is then owed.
STATEMENTS_OF_REASONS = Dataset(
    "statements_of_reasons",
    month_by="application_date",
    key=("platform_name", "platform_uid"),
    dedupe_by="created_at",
    columns=(
        Column("platform_name", required=True),
        Column("platform_uid", required=True),
        Column("owes_decision_visibility_other", "lists", source="decision_visibility",
               value="DECISION_VISIBILITY_OTHER"),
        Column("decision_monetary", allowed=_enum(
            "DECISION_MONETARY_SUSPENSION", "DECISION_MONETARY_TERMINATION", "DECISION_MONETARY_OTHER")),
        Column("decision_ground", required=True, allowed=DECISION_GROUNDS),
        Column("category", allowed=CATEGORIES),
        Column("owes_category_specification_other", "lists", source="category_specification",
               value="KEYWORD_OTHER"),
        Column("owes_content_type_other", "lists", source="content_type", value="CONTENT_TYPE_OTHER"),
        Column("source_type", allowed=SOURCE_TYPES),
        Column("automated_detection", "bool"),
        Column("automated_decision", allowed=AUTOMATED_DECISIONS),
        Column("application_date", "timestamp", required=True),
        Column("created_at", "timestamp"),
        Column("trader_id"),
        Column("item_id"),
        Column("notice_id"),
        Column("manifestly_illegal", "bool"),  # v2, optional: evident without substantive analysis (Art. 23(1))
        *(
            Column("has_" + name, "presence", source=name)
            for name in (
                "illegal_content_legal_ground", "illegal_content_explanation",
                "incompatible_content_ground", "incompatible_content_explanation",
                "decision_visibility_other", "decision_monetary_other", "content_type_other",
                "category_specification_other", "decision_facts",
            )
        ),
    ),
)

NOTICES = Dataset(
    "notices",
    month_by="received_at",
    key=("notice_id",),
    columns=(
        Column("notice_id", required=True),
        Column("received_at", "timestamp", required=True),
        Column("acknowledged_at", "timestamp"),
        Column("decided_at", "timestamp"),
        Column("source_type", allowed=SOURCE_TYPES - {"SOURCE_VOLUNTARY"}),
        Column("notifier_id"),
        Column("category", allowed=CATEGORIES),
        Column("item_id"),
        Column("trader_id"),
        Column("outcome", allowed=_enum("ACTION_TAKEN", "NO_ACTION", "MANIFESTLY_UNFOUNDED", "PENDING")),
        Column("notifier_contact_provided", "bool"),  # optional (v2): Art. 16(4) owes a confirmation only then
        Column("member_state"),  # optional (v2): ISO alpha-2 of the notifier (transparency-report template)
        Column("action_basis", allowed=_enum("ILLEGAL_CONTENT", "INCOMPATIBLE_CONTENT")),
        Column("automated_decision", allowed=AUTOMATED_DECISIONS),
    ),
)

COMPLAINTS = Dataset(
    "complaints",
    month_by="received_at",
    key=("complaint_id",),
    columns=(
        Column("complaint_id", required=True),
        Column("decision_puid"),
        Column("received_at", "timestamp", required=True),
        Column("decided_at", "timestamp"),
        Column("outcome", allowed=_enum(
            "DECISION_UPHELD", "DECISION_REVERSED", "DECISION_PARTIALLY_REVERSED", "PENDING"
        )),
        Column("decided_solely_automated", "bool"),
    ),
)

TRADERS = Dataset(
    "traders",
    key=("trader_id",),
    columns=(
        Column("trader_id", required=True),
        Column("onboarded_at", "timestamp"),
        Column("status", required=True, allowed=_enum("ACTIVE", "SUSPENDED", "TERMINATED")),
        Column("live_listings", "int"),
        Column("kyc_contact", "bool"),
        Column("kyc_id_document", "bool"),
        Column("kyc_payment_account", "bool"),
        Column("kyc_self_certification", "bool"),
        Column("kyc_trade_register", "bool"),
        Column("kyc_verified_at", "timestamp"),
        Column("country"),
    ),
)

ENFORCEMENT_ACTIONS = Dataset(
    "enforcement_actions",
    month_by="occurred_at",
    key=("action_id",),
    columns=(
        Column("action_id", required=True),
        Column("trader_id", required=True),
        Column("action", required=True, allowed=_enum(
            "WARNING", "PENALTY_POINTS", "SUSPENSION", "TERMINATION", "REINSTATEMENT"
        )),
        Column("reason", allowed=_enum(
            "ILLEGAL_CONTENT", "HIDDEN_LINKS", "UNFOUNDED_NOTICES", "UNFOUNDED_COMPLAINTS",
            "KYBC_INCOMPLETE", "OTHER",
        )),
        Column("points", "int"),
        Column("occurred_at", "timestamp", required=True),
        Column("ends_at", "timestamp"),
    ),
)

LISTING_EVENTS = Dataset(
    "listing_events",
    month_by="occurred_at",
    key=("event_id",),
    columns=(
        Column("event_id", required=True, kept=False),  # unique key: required, but no rule reads it
        Column("item_id", required=True),
        Column("trader_id"),
        Column("event", required=True, allowed=_enum("LISTED", "BLOCKED_PRE_LISTING", "REMOVED", "REAPPEARED")),
        Column("occurred_at", "timestamp", required=True),
        Column("detection", allowed=_enum("PROACTIVE", "NOTICE", "AUTHORITY_ORDER", "TEST_PURCHASE")),
        Column("hidden_link", "bool"),
        Column("category", allowed=CATEGORIES),
        Column("reappearance_of"),
    ),
)

ACTIVE_RECIPIENTS = Dataset(
    "active_recipients",
    month_by="month",
    key=("month", "member_state"),
    columns=(
        Column("month", "month", required=True),
        Column("member_state", required=True),
        Column("active_recipients", "int", required=True),
    ),
)

# Art. 30(7) and 31(3): the live listings at period end (a snapshot, like traders); one row per item.
LISTINGS = Dataset(
    "listings",
    key=("item_id",),
    columns=(
        Column("item_id", required=True),
        Column("trader_id"),
        Column("category", allowed=CATEGORIES),
        Column("listed_at", "timestamp"),
        Column("shows_trader_info", "bool"),
        Column("has_economic_operator", "bool"),
        Column("has_product_identification", "bool"),
        Column("has_required_labelling", "bool"),
        Column("labelling_required", "bool"),
        Column("random_check_at", "timestamp"),
    ),
)

# Art. 39(2)(a)-(g) and 39(3): the fields of an ad repository entry (boolean presence flags in the data)
AD_REPOSITORY_FIELDS = (
    "has_content", "has_advertiser", "has_payer", "has_period", "has_targeting_parameters", "has_total_reach",
    "has_reach_per_member_state", "has_sor_information",
)
# ISO 639-1 codes of the 24 official languages of the Union (moderation_staff.language)
EU_LANGUAGES = _enum(
    "bg", "cs", "da", "de", "el", "en", "es", "et", "fi", "fr", "ga", "hr", "hu", "it", "lt", "lv", "mt", "nl",
    "pl", "pt", "ro", "sk", "sl", "sv",
)

# ---- Added in v2 (data contract, "Added in v2") --------------------------------------------------------

ORDERS = Dataset(  # Arts 9 and 10: orders from Member State authorities
    "orders",
    month_by="received_at",
    key=("order_id",),
    columns=(
        Column("order_id", required=True),
        Column("kind", required=True, allowed=_enum("ACT_AGAINST_ILLEGAL_CONTENT", "PROVIDE_INFORMATION")),
        Column("member_state"),
        Column("category", allowed=CATEGORIES),
        Column("received_at", "timestamp", required=True),
        Column("acknowledged_at", "timestamp"),
        Column("deadline_at", "timestamp"),
        Column("outcome", allowed=_enum("GIVEN_EFFECT", "REFUSED", "PENDING")),
        Column("effect_given_at", "timestamp"),
        Column("effect_reported_at", "timestamp"),
    ),
)

ODR_DISPUTES = Dataset(  # Art. 21: out-of-court dispute settlement
    "odr_disputes",
    month_by="submitted_at",
    key=("dispute_id",),
    columns=(
        Column("dispute_id", required=True),
        Column("decision_puid"),
        Column("body"),
        Column("submitted_at", "timestamp", required=True),
        Column("closed_at", "timestamp"),
        Column("outcome", required=True, allowed=_enum(
            "IN_FAVOUR_OF_RECIPIENT", "IN_FAVOUR_OF_PROVIDER", "SETTLED", "WITHDRAWN", "PENDING")),
        Column("implemented_at", "timestamp"),
    ),
)

BUYER_NOTIFICATIONS = Dataset(  # Art. 32: informing consumers who bought an illegal product
    "buyer_notifications",
    month_by="aware_at",
    key=("item_id", "aware_at"),
    columns=(
        Column("item_id", required=True),
        Column("aware_at", "timestamp", required=True),
        Column("consumers_6m", "int"),
        Column("consumers_6m_with_contact", "int"),
        Column("notified", "int"),
        Column("notified_at", "timestamp"),
        Column("public_notice_at", "timestamp"),
    ),
)

ADS = Dataset(  # Art. 39: advertisement repository
    "ads",
    month_by="first_shown_at",
    key=("ad_id",),
    columns=(
        Column("ad_id", required=True),
        Column("first_shown_at", "timestamp", required=True),
        Column("last_shown_at", "timestamp", required=True),
        Column("in_repository_at", "timestamp"),
        Column("removed_from_repository_at", "timestamp"),
        Column("targeted", "bool"),
        Column("payer_differs", "bool"),
        Column("removed_under_39_3", "bool"),
        *(Column(name, "bool") for name in AD_REPOSITORY_FIELDS),
    ),
)

MODERATION_STAFF = Dataset(  # Art. 42(2): human resources per official EU language
    "moderation_staff",
    month_by="month",
    key=("month", "language"),
    columns=(
        Column("month", "month", required=True),
        Column("language", required=True, allowed=EU_LANGUAGES),
        Column("staff", "number", required=True),
        Column("qualification"),
    ),
)

DATASETS: dict[str, Dataset] = {
    d.name: d
    for d in (
        STATEMENTS_OF_REASONS, NOTICES, COMPLAINTS, TRADERS, ENFORCEMENT_ACTIONS, LISTING_EVENTS,
        ACTIVE_RECIPIENTS, LISTINGS,
        ORDERS, ODR_DISPUTES, BUYER_NOTIFICATIONS, ADS, MODERATION_STAFF,
    )
}

# DuckDB table name of each dataset (short names keep the SQL of the rules readable).
TABLES = {
    "statements_of_reasons": "sor",
    "notices": "notices",
    "complaints": "complaints",
    "traders": "traders",
    "enforcement_actions": "enforcement_actions",
    "listing_events": "listing_events",
    "active_recipients": "active_recipients",
    "listings": "listings",
    "orders": "orders",
    "odr_disputes": "odr_disputes",
    "buyer_notifications": "buyer_notifications",
    "ads": "ads",
    "moderation_staff": "moderation_staff",
}

# register file name -> its top-level key (data contract)
REGISTERS = {
    "risk_assessments": "assessments",
    "launches": "launches",
    "commitments": "commitments",
    "publications": "publications",
    "audits": "audits",
    "listing_interface": "listing_interface",  # one mapping {fields: [...]}, not a list (registers.py)
    "recommender_systems": "recommender_systems",
    "data_access_requests": "data_access_requests",
}

SQL_TYPES = {
    "text": "VARCHAR", "timestamp": "TIMESTAMP", "bool": "BOOLEAN", "int": "BIGINT",
    "lists": "BOOLEAN", "presence": "BOOLEAN", "month": "VARCHAR", "number": "DOUBLE",
}


def enum_type(dataset: Dataset, column: Column) -> str:
    """Closed vocabularies are stored as DuckDB ENUMs: one byte a value instead of a 30-50 byte string."""
    return f"{TABLES[dataset.name]}_{column.name}_enum"


def column_type(dataset: Dataset, column: Column) -> str:
    return enum_type(dataset, column) if column.allowed is not None else SQL_TYPES[column.kind]


def create_types_sql() -> list[str]:
    """DDL of the ENUM types (values are this module's constants, never input data)."""
    return [
        f"CREATE TYPE IF NOT EXISTS {enum_type(d, c)} AS ENUM ("
        + ", ".join("'" + value + "'" for value in sorted(c.allowed)) + ")"
        for d in DATASETS.values() for c in d.columns if c.allowed is not None
    ]


def create_table_sql(dataset: Dataset, extra: str = "") -> str:
    """DDL of a dataset's engine table: used by the loader and by tests that build tables by hand
    (run `create_types_sql()` first)."""
    cols = ", ".join(f"{c.name} {column_type(dataset, c)}" for c in dataset.columns if c.kept)
    return f"CREATE OR REPLACE TABLE {TABLES[dataset.name]} ({cols}{extra})"
