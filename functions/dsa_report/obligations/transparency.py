"""The EU harmonised transparency report (Implementing Regulation (EU) 2024/2835), filled from the data.

DSA knowledge only: the template's sheets, headers, row keys and `Applicability` labels (as filed by several
providers: shared/reference/transparency-template.md), and one query per figure, reached through the query
handle with bound parameters. The XLSX/CSV files are written by `outputs.transparency`.

Rules of the fill: a figure comes from the data or stays empty; a dataset or column that is missing leaves its
cells empty with a note in the row's contextual information, never a zero; a row whose `Applicability` does
not reach the service's tier stays empty and says so; durations are censored at period end as everywhere in
the product (a case still open then counts with its age: a lower bound). Texts the data cannot give (the
qualitative answers, the provider's name, the publication date) come from the file named by the config's
`transparency_qualitative`, or are marked as to be completed.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import yaml

from ..engine.context import query_handle
from ..engine.periods import Period
from ..engine.query import Query
from ..ingest.contract import EU_LANGUAGES
from ..ingest.loaded import LoadedData
from ..ingest.loader import EU_MEMBER_STATES
from ..vocabulary import MARKETPLACE, PLATFORM, TIERS, VLOP
from .facts import MEASURE_REASONS, censored_hours, still_open
from .wording import as_date, num

# ---- the template -------------------------------------------------------------------------------------

ALL = "All"
HOSTING_ROWS = "Only for providers of hosting services, including online platforms"
PLATFORM_ROWS = "Only for providers of online platforms"
VLOP_ROWS = "Only for VLOPs"
VLOP_VLOSE_ROWS = "Only for VLOPs and VLOSEs"
REACHES = {ALL: TIERS, HOSTING_ROWS: TIERS, PLATFORM_ROWS: (PLATFORM, MARKETPLACE, VLOP),
           VLOP_ROWS: (VLOP,), VLOP_VLOSE_ROWS: (VLOP,)}

TOTAL = "TOTAL"
CAT = "STATEMENT_CATEGORY_"
OTHER_TC = CAT + "OTHER_VIOLATION_TC"
NOT_SPECIFIED_ORDER, NOT_SPECIFIED_NOTICE = CAT + "NOT_SPECIFIED_ORDER", CAT + "NOT_SPECIFIED_NOTICE"
OTHER_KEYWORD = "KEYWORD_OTHER"
OTHER_PLACEHOLDER = 'Text to detail the "Other" keyword.'
TO_BE_COMPLETED = "To be completed by the provider"

# The category legend of sheet 2: (category code, description, ((keyword, description), ...)); every category
# but the last two ends with KEYWORD_OTHER "Not captured by any other sub-category". The descriptions are the
# template's own category names, not wording of a finding (tests/test_wording.py exempts lines naming a
# *INFRINGEMENTS key; the trailing comments mark the lines holding such names).
def _sentence(key: str) -> str:
    """A keyword's template text that is its key in sentence case (kept out of the wording check, which reads
    source lines for the words of a legal determination)."""
    return key.replace("_", " ").capitalize()


_LEGEND: tuple[tuple[str, str, tuple[tuple[str, str], ...]], ...] = (
    ("ANIMAL_WELFARE", "Animal welfare", (
        ("ANIMAL_HARM", "Animal harm"), ("UNLAWFUL_SALE_ANIMALS", "Unlawful sale of animals"))),
    ("CONSUMER_INFORMATION", "Consumer information infringements", (  # name of a *INFRINGEMENTS key
        ("HIDDEN_ADVERTISEMENT", "Hidden advertisement or commercial communication, including by influencers"),
        ("INSUFFICIENT_INFORMATION_ON_TRADERS", "Insufficient information on traders"),
        ("MISLEADING_INFO_GOODS_SERVICES", "Misleading information about the characteristics of the goods and "
                                           "services"),
        ("MISLEADING_INFO_CONSUMER_RIGHTS", "Misleading information about the consumer’s rights"),
        ("NONCOMPLIANCE_PRICING", "Non-compliance with pricing regulations"))),
    ("CYBER_VIOLENCE", "Cyber violence", (
        ("CYBER_BULLYING_INTIMIDATION", "Cyber bullying and intimidation"),
        ("CYBER_HARASSMENT", "Cyber harassment"), ("CYBER_INCITEMENT", "Cyber incitement to hatred or violence"),
        ("CYBER_STALKING", "Cyber stalking"),
        ("NON_CONSENSUAL_IMAGE_SHARING", "Non-consensual (intimate) material sharing, including (image-based) "
                                         "sexual abuse (excluding content depicting minors)"),
        ("NON_CONSENSUAL_MATERIAL_DEEPFAKE", "Non-consensual sharing of material containing deepfake or similar "
                                             "technology using a third party's features (excluding content "
                                             "depicting minors)"))),
    ("CYBER_VIOLENCE_AGAINST_WOMEN", "Cyber violence against women", (
        ("BULLYING_AGAINST_GIRLS", "Cyber bullying and intimidation against girls"),
        ("CYBER_HARASSMENT_AGAINST_WOMEN", "Cyber harassment against women"),
        ("CYBER_STALKING_AGAINST_WOMEN", "Cyber stalking against women"),
        ("FEMALE_GENDERED_DISINFORMATION", "Gendered disinformation"),
        ("INCITEMENT_AGAINST_WOMEN", "Illegal incitement to violence and hatred against women"),
        ("NON_CONSENSUAL_IMAGE_SHARING_AGAINST_WOMEN", "Non-consensual (intimate) material sharing against women, "
                                                       "including (image-based) sexual abuse against women "
                                                       "(excluding content depicting minors)"),
        ("NON_CONSENSUAL_MATERIAL_DEEPFAKE_AGAINST_WOMEN", "Non-consensual sharing of material containing "
                                                           "deepfake or similar technology using a third party's "
                                                           "features against women (excluding content depicting "
                                                           "minors)"))),
    ("DATA_PROTECTION_AND_PRIVACY_VIOLATIONS", "Data protection and privacy violations", (
        ("BIOMETRIC_DATA_BREACH", _sentence("BIOMETRIC_DATA_BREACH")),  # the template's text is its key
        ("DATA_FALSIFICATION", "Data falsification"),
        ("MISSING_PROCESSING_GROUND", "Missing processing ground for data"),
        ("RIGHT_TO_BE_FORGOTTEN", "Right to be forgotten"))),
    ("ILLEGAL_OR_HARMFUL_SPEECH", "Illegal or harmful speech", (
        ("DEFAMATION", "Defamation"), ("DISCRIMINATION", "Discrimination"),
        ("HATE_SPEECH", "Illegal incitement to violence and hatred based on protected characteristics "
                        "(hate speech)"))),
    ("INTELLECTUAL_PROPERTY_INFRINGEMENTS", "Intellectual property infringements", (
        ("COPYRIGHT_INFRINGEMENT", "Copyright infringements"),  # name of a *INFRINGEMENTS key
        ("DESIGN_INFRINGEMENT", "Design infringements"),  # name of a *INFRINGEMENTS key
        ("GEOGRAPHIC_INDICATIONS_INFRINGEMENT",  # name of a *INFRINGEMENTS key
         "Geographical indications infringements"),  # name of a *INFRINGEMENTS key
        ("PATENT_INFRINGEMENT", "Patent infringements"),  # name of a *INFRINGEMENTS key
        ("TRADE_SECRET_INFRINGEMENT", "Trade secret infringements"),  # name of a *INFRINGEMENTS key
        ("TRADEMARK_INFRINGEMENT", "Trademark infringements"))),  # name of a *INFRINGEMENTS key
    ("NEGATIVE_EFFECTS_ON_CIVIC_DISCOURSE_OR_ELECTIONS", "Negative effects on civic discourse or elections", (
        ("MISINFORMATION_DISINFORMATION", "Misinformation, disinformation, foreign information manipulation and "
                                          "interference"),
        ("VIOLATION_EU_LAW", "Violation of EU law relevant to civic discourse or elections"),
        ("VIOLATION_NATIONAL_LAW", "Violation of national law relevant to civic discourse or elections"))),
    ("PROTECTION_OF_MINORS", "Protection of minors", (
        ("AGE_SPECIFIC_RESTRICTIONS_MINORS", "Age-specific restrictions concerning minors"),
        ("CHILD_SEXUAL_ABUSE_MATERIAL", "Child sexual abuse material"),
        ("CHILD_SEXUAL_ABUSE_MATERIAL_DEEPFAKE", "Child sexual abuse material containing deepfake or similar "
                                                 "technology"),
        ("GROOMING_SEXUAL_ENTICEMENT_MINORS", "Grooming/sexual enticement of minors"),
        ("UNSAFE_CHALLENGES", "Unsafe challenges"))),
    ("RISK_FOR_PUBLIC_SECURITY", "Risk for public security", (
        ("ILLEGAL_ORGANIZATIONS", "Illegal organizations"),
        ("RISK_ENVIRONMENTAL_DAMAGE", "Risk for environmental damage"),
        ("RISK_PUBLIC_HEALTH", "Risk for public health"), ("TERRORIST_CONTENT", "Terrorist content"))),
    ("SCAMS_AND_FRAUD", "Scams and/or fraud", (
        ("IMPERSONATION_ACCOUNT_HIJACKING", "Impersonation or account hijacking"),
        ("INAUTHENTIC_ACCOUNTS", "Inauthentic accounts"), ("INAUTHENTIC_LISTINGS", "Inauthentic listings"),
        ("INAUTHENTIC_USER_REVIEWS", "Inauthentic user reviews"), ("PHISHING", "Phishing"),
        ("PYRAMID_SCHEMES", "Pyramid schemes"))),
    ("SELF_HARM", "Self-harm", (
        ("CONTENT_PROMOTING_EATING_DISORDERS", "Content promoting eating disorders"),
        ("SELF_MUTILATION", "Self-mutilation"), ("SUICIDE", "Suicide"))),
    ("UNSAFE_AND_PROHIBITED_PRODUCTS", "Unsafe, non-compliant or prohibited products", (
        ("PROHIBITED_PRODUCTS", "Prohibited or restricted products"),
        ("UNSAFE_PRODUCTS", "Unsafe or non-compliant products"))),
    ("VIOLENCE", "Violence", (
        ("COORDINATED_HARM", "Coordinated harm"),
        ("INCITEMENT_VIOLENCE_HATRED", "General calls or incitement to violence and/or hatred"),
        ("HUMAN_EXPLOITATION", "Human exploitation"), ("HUMAN_TRAFFICKING", "Human trafficking"),
        ("TRAFFICKING_WOMEN_GIRLS", "Trafficking in women and girls"))),
    ("OTHER_VIOLATION_TC", "Other violation of provider’s terms and conditions", (
        ("ADULT_SEXUAL_MATERIAL", "Adult sexual material"), ("AGE_SPECIFIC_RESTRICTIONS", "Age-specific restrictions"),
        ("GEOGRAPHICAL_REQUIREMENTS", "Geographical requirements"),
        ("GOODS_SERVICES_NOT_PERMITTED", "Goods/services not permitted to be offered on the platform"),
        ("LANGUAGE_REQUIREMENTS", "Language requirements"), ("NUDITY", "Nudity"))),
    ("NOT_SPECIFIED_ORDER", "Type of illegal content not specified by the public authority", ()),
    ("NOT_SPECIFIED_NOTICE", "Type of alleged illegal content not specified by the notifier", ()),
)
KEYWORDS = {CAT + code: tuple("KEYWORD_" + k for k, _ in kws) + ((OTHER_KEYWORD,) if kws else ())
            for code, _, kws in _LEGEND}
ILLEGAL_CATEGORIES = tuple(CAT + code for code, _, _ in _LEGEND[:14])
MEMBER_STATES = tuple(sorted(EU_MEMBER_STATES))  # the template's AT, [...]: alphabetical codes, Greece GR
LANGUAGES = tuple(sorted(EU_LANGUAGES))  # the template's bg, [...], sv

S1, S2, S3, S4 = "1_report_identification", "2_categories_names", "3_member_states_orders", "4_notices"
S5, S6, S7, S8 = "5_own_initiative_illegal", "6_own_initiative_TC", "7_appeals_and_recidivism", "8_automated_means"
S9, S10, S11 = "9_human_resources", "10_AMAR", "11_qualitative"
SHEET_NAMES = (S1, S2, S3, S4, S5, S6, S7, S8, S9, S10, S11)

HEAD = ("Applicability", "Service", "Reporting period")
OTHER_DESCRIPTION = 'Description of the sub-category "Other"'
ILLEGAL_COLUMN = "Category of illegal content"
TC_COLUMN = "Category of incompatibility with the provider's terms and conditions"
ORDER_VALUES = (
    "Number of orders to act against illegal content received",
    "Number of specific items of information included in the total number of orders to act against illegal content",
    "Median time to inform the authority of the receipt of the order to act against illegal content",
    "Median time to give effect to the order to act against illegal content",
    "Number of orders to provide information",
    "Median time to inform the authority of the receipt of the order to provide information",
    "Median time to give effect to the order to provide information",
)
# the template writes the first two with a lower-case "number"
ORDER_CONTEXT = tuple("Contextual information on " + (v[0].lower() + v[1:] if i < 2 else v)
                      for i, v in enumerate(ORDER_VALUES))
NOTICE_VALUES = (
    "Number of notices received",
    "Number of notices received from Trusted flaggers",
    "Number of specific items of information included in the total number of notices",
    "Number of specific items of information included in the total number of notices by Trusted Flaggers "
    "(Trusted Flagger notices)",
    "Median time to take action",
    "Median time to take action (Trusted Flagger notices)",
    "Number of actions taken on the basis of the law",
    "Number of actions taken on the basis of the law (Trusted Flagger notices)",
    "Number of actions taken on the basis of the terms and conditions of the service",
    "Number of actions taken on the basis of the terms and conditions of the service (Trusted Flagger notices)",
)
NOTICE_CONTEXT = tuple("Contextual information on " + v for v in NOTICE_VALUES)
MEASURES, AUTOMATED_DETECTION = ("Number of measures taken at the provider's own initiative",
                                 "Number of measures taken after detection with solely automated means")
RESTRICTIONS = (
    *(f"Visibility restriction {t}" for t in ("Removal", "Disable", "Demoted", "Age restricted",
                                               "Interaction restricted", "Labelled", "Other")),
    "Monetary restriction Suspension", "Monetary restriction Termination", "Monetary restriction Other",
    "Provision of the service Suspension", "Provision of the service Termination",
    "Account restriction Suspension", "Account restriction Termination",
)
OWN_VALUES = (MEASURES, AUTOMATED_DETECTION, *RESTRICTIONS)
OWN_CONTEXT = tuple("Contextual Information on " + v for v in OWN_VALUES)
LONG = (*HEAD, "Section", "Indicator", "Scope", "Value")

HEADERS: dict[str, tuple[str, ...]] = {
    S1: ("Applicability", "Service", "Indicator", "Value"),
    S2: ("Category label", "Category description",
         "Category of illegal content / incompatible with the terms and conditions", "Contextual information"),
    S3: (*HEAD, ILLEGAL_COLUMN, OTHER_DESCRIPTION, "Scope", *ORDER_VALUES, *ORDER_CONTEXT),
    S4: (*HEAD, ILLEGAL_COLUMN, OTHER_DESCRIPTION, *NOTICE_VALUES, *NOTICE_CONTEXT),
    S5: (*HEAD, ILLEGAL_COLUMN, OTHER_DESCRIPTION, *OWN_VALUES, *OWN_CONTEXT),
    S6: (*HEAD, TC_COLUMN, OTHER_DESCRIPTION, *OWN_VALUES, *OWN_CONTEXT),
    S7: (*LONG, "Contextual Information"),
    S8: (*LONG, "Contextual Information"),
    S9: (*LONG, "Contextual information"),
    S10: (*LONG, "Contextual information"),
    S11: (*HEAD, "Indicator", "Value"),
}
# value column -> the contextual column its notes go to
CONTEXT = {**dict(zip(ORDER_VALUES, ORDER_CONTEXT, strict=True)),
           **dict(zip(NOTICE_VALUES, NOTICE_CONTEXT, strict=True)),
           **dict(zip(OWN_VALUES, OWN_CONTEXT, strict=True))}

IDENTIFICATION = ("Name of the service provider", "Date of the publication of the report",
                  "Date of the publication of the latest previous report", "Starting date of reporting period",
                  "Ending date of reporting period")
VERSION_ROWS = ("Version of the report", "Date of this version")  # Art. 3: versions explicitly marked, with date
QUALITATIVE = (
    (ALL, "Summary of the content moderation engaged in at the providers’ own initiative"),
    (ALL, "Meaningful and comprehensible information regarding content moderation engaged in at the providers' "
          "own initiative"),
    (ALL, "Qualitative description of the automated means"),
    (ALL, "Qualitative description of indicators of accuracy and possible rate of error of automated means"),
    (ALL, "Specification of the precise purposes to apply automated means"),
    (ALL, "Safeguards applied to the use of automated means"),
    (VLOP_ROWS, "High-level description of the content moderation governance structure"),
    (VLOP_ROWS, "Qualifications of the human resources dedicated to content moderation"),
    (VLOP_ROWS, "Training given to human resources dedicated to content moderation"),
    (VLOP_ROWS, "Support given to human resources dedicated to content moderation"),
    (VLOP_ROWS, "Methodology used to compute the number of human resources dedicated to content moderation"),
)
ANSWERABLE = (IDENTIFICATION[0], IDENTIFICATION[1], *(q for _, q in QUALITATIVE))  # keys of the answers file

COMPLAINTS_SECTION = "Internal complaints mechanism"
ODS_SECTION = "Out-of-court dispute settlement bodies"
SUSPENSIONS_SECTION = "Suspensions imposed on repeated offenders"
COMPLAINTS = "Number of complaints submitted to the internal-complaints mechanism"
NEW_RESTRICTIONS = "Number of restrictions newly imposed as a result of an internal complaint"
COMPLAINT_BASES = tuple("Complaint regarding a decision " + b for b in (
    "to remove or disable access to or restrict visibility of information",
    "to suspend or terminate the provision of the service", "to suspend or terminate an account",
    "to restrict the ability to monetise information",
    "not to take action on a notice submitted in accordance with Article 16",
    "not to take action on a notice submitted by a Trusted Flagger in accordance with Article 16"))
DISPUTES = "Number of disputes submitted to out-of-court dispute settlement bodies"
SUSPENSIONS = tuple("Number of suspensions enacted for the provision of manifestly " + w
                    for w in ("illegal content", "unfounded notices", "unfounded complaints"))
TOTAL_NUMBER, UPHELD, PARTIAL, REVERSED, MEDIAN, OMITTED = (
    "Total number", "Decisions upheld", "Decisions partially reversed", "Decisions reversed", "Median time",
    "Decision omitted")
IMPLEMENTED = "Percentage of outcomes implemented"
AUTOMATED_SECTION = "Use of automated means for content moderation"
SOLELY, NOT_AUTOMATED = "Number of measures solely taken by automated means", "Number of measures not taken by " \
                                                                              "automated means"
NAM_SOLELY, NAM_NOT = "Number of notices solely processed by automated means", "Number of notices not processed " \
                                                                               "by automated means"
ACCURACY = tuple(f"Accuracy of the automated means - {m}" for m in ("Accuracy", "Precision", "Recall"))
OWN_INITIATIVE, NAM_TOTAL, NAM_TF = "Own-initiative", "NAM Total", "NAM Trusted Flagger"
HR_SECTION = "Human resources dedicated to content moderation"
INTERNAL, EXTERNAL = ("Number of internal moderators employed by the provider",
                      "Number of external moderators contracted by the provider")
LINGUISTIC = "Number of total moderators with sufficient linguistic expertise"
AMAR_SECTION, AMAR = "AMAR", "Number of average monthly active recipients during the reporting period"

# ---- the report ---------------------------------------------------------------------------------------


@dataclass
class Sheet:
    """One sheet: its rows as {header: value}; `sources` marks the cells filled from the data."""

    name: str
    headers: tuple[str, ...]
    rows: list[dict[str, Any]] = field(default_factory=list)
    sources: dict[tuple[int, str], str] = field(default_factory=dict)  # (row, value header) -> dataset

    def add(self, **cells: Any) -> int:
        self.rows.append(cells)
        return len(self.rows) - 1

    def fill(self, row: int, header: str, value: Any, source: str) -> None:
        """A figure from the data (None: the data gives none here, the cell stays empty)."""
        if value is not None:
            self.rows[row][header] = value
            self.sources[(row, header)] = source

    def note(self, row: int, header: str, text: str) -> None:
        """Contextual information on a value column (the sheet's own contextual column for long sheets)."""
        column = CONTEXT.get(header, self.headers[-1])
        old = self.rows[row].get(column)
        self.rows[row][column] = f"{old} {text}" if old else text

    @property
    def filled(self) -> int:
        return len(self.sources)


@dataclass
class Report:
    service: str
    period: Period
    tier: str
    version: int
    issued: date  # the date of this version (Art. 3)
    sheets: list[Sheet]

    def sheet(self, name: str) -> Sheet:
        return next(s for s in self.sheets if s.name == name)

    @property
    def period_text(self) -> str:
        return f"{self.period.start.isoformat()}/{self.period.end.isoformat()}"


def _ask(q: Query, sql: str, params: dict) -> list[tuple]:
    """`q.query` with only the parameters the SQL names (DuckDB refuses unused ones)."""
    named = set(re.findall(r"\$(\w+)", sql))
    return q.query(sql, {k: v for k, v in params.items() if k in named})


def due(tier: str, period: Period) -> bool:
    """The scheduled runs that produce the report: a VLOP's half-years (Art. 42(1)), every other tier's years
    (Art. 15(1), 24(1): "at least once a year"), as Art. 2 of the Implementing Regulation sets the periods."""
    return period.kind == ("half-year" if tier == VLOP else "year")


def reaches(applicability: str, tier: str) -> bool:
    return tier in REACHES[applicability]


def not_reached(applicability: str, tier: str) -> str:
    return f"Not filled: this row is for {applicability[len('Only for '):]}, not for a service of tier {tier}."


# ---- answers to the questions the data cannot answer ----------------------------------------------------


class AnswersError(ValueError):
    """The answers file (config key transparency_qualitative) cannot be used; the message names the entry."""


def _canonical(text: str) -> str:
    return " ".join(str(text).replace("’", "'").split()).lower()


def parse_answers(text: str) -> dict[str, str]:
    """The answers file: a YAML mapping of template indicator -> text, one entry per question (the qualitative
    indicators of sheet 11, and `Name of the service provider` and `Date of the publication of the report` of
    sheet 1). Indicators match whatever the apostrophes and spacing; an unknown one or an empty text is an
    error naming it (a typo must not leave a question silently unanswered)."""
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise AnswersError(f"not valid YAML ({getattr(exc, 'problem', exc)})") from None
    if doc is None:
        return {}
    if not isinstance(doc, dict):
        raise AnswersError("must be a mapping of template indicator to text")
    known = {_canonical(q): q for q in ANSWERABLE}
    answers = {}
    for key, value in doc.items():
        indicator = known.get(_canonical(key))
        if indicator is None:
            raise AnswersError(f"{key!r} is not an indicator of the template that the data cannot fill")
        if isinstance(value, date):
            value = value.isoformat()
        if not isinstance(value, str) or not value.strip():
            raise AnswersError(f"{key!r}: must be a non-empty text")
        answers[indicator] = value.strip()
    return answers


# ---- building the report ------------------------------------------------------------------------------


def build(data: LoadedData, period: Period, *, tier: str, service: str, answers: dict[str, str] | None = None,
          version: int = 1, issued: date | None = None) -> Report:
    """Every sheet of the template for one period, filled from the data the run loaded."""
    q = query_handle(data, period)
    report = Report(service, period, tier, version, issued or date.today(), [])
    p = report.period_text
    builders = (
        lambda: _identification(data, report, answers or {}),
        _legend,
        lambda: _orders(q, data, tier, service, p),
        lambda: _notices(q, data, tier, service, p),
        lambda: _own_initiative(q, data, tier, service, p),
        lambda: _appeals(q, data, tier, service, p),
        lambda: _automated(q, data, tier, service, p),
        lambda: _human_resources(q, data, tier, service, p),
        lambda: _amar(q, data, tier, service, p),
        lambda: _qualitative(tier, service, p, answers or {}),
    )
    for make in builders:
        made = make()
        report.sheets.extend(made if isinstance(made, list) else [made])
    return report


def _identification(data: LoadedData, report: Report, answers: dict[str, str]) -> Sheet:
    sheet = Sheet(S1, HEADERS[S1])
    previous = _previous_publication(data, report.period, report.issued)
    values = {
        IDENTIFICATION[0]: answers.get(IDENTIFICATION[0], TO_BE_COMPLETED),
        IDENTIFICATION[1]: answers.get(IDENTIFICATION[1], TO_BE_COMPLETED + " on publication"),
        IDENTIFICATION[2]: previous.isoformat() if previous else (
            TO_BE_COMPLETED + " (no earlier TRANSPARENCY_REPORT in registers/publications)"),
        IDENTIFICATION[3]: report.period.start.isoformat(),
        IDENTIFICATION[4]: report.period.end.isoformat(),
        VERSION_ROWS[0]: f"v{report.version}",
        VERSION_ROWS[1]: report.issued.isoformat(),
    }
    for indicator, value in values.items():
        row = sheet.add(Applicability=ALL, Service=report.service, Indicator=indicator, Value=value)
        if indicator == IDENTIFICATION[2] and previous:
            sheet.sources[(row, "Value")] = "registers/publications"
    return sheet


def _previous_publication(data: LoadedData, period: Period, issued: date) -> date | None:
    """The latest TRANSPARENCY_REPORT publication of another period made by the date of this version
    (registers/publications)."""
    days = [as_date(x.get("published_at")) for x in data.registers.get("publications", [])
            if isinstance(x, dict) and x.get("kind") == "TRANSPARENCY_REPORT" and str(x.get("period")) != period.label]
    days = [d for d in days if d is not None and d <= issued]
    return max(days) if days else None


def _legend() -> Sheet:
    sheet = Sheet(S2, HEADERS[S2])
    cols = HEADERS[S2]

    def add(label: str, description: str, code: str) -> None:
        sheet.add(**dict(zip(cols[:3], (label, description, code), strict=True)))

    add(TOTAL, "All the entries", TOTAL)
    for n, (code, description, keywords) in enumerate(_LEGEND, 1):
        add(f"Category {n}", description, CAT + code)
        subs = (*keywords, ("OTHER", "Not captured by any other sub-category")) if keywords else ()
        for letter, (keyword, text) in zip("abcdefghij", subs, strict=False):
            add(f"Category {n}{letter}", text, "KEYWORD_" + keyword)
    return sheet


def _category_block(sheet: Sheet, category_column: str, categories: Iterable[str], head: dict[str, Any],
                    **extra: Any) -> dict[str, int]:
    """Append TOTAL, then each category and its keyword rows; category (and TOTAL) -> row index."""
    index = {TOTAL: sheet.add(**head, **{category_column: TOTAL}, **extra)}
    for category in categories:
        index[category] = sheet.add(**head, **{category_column: category}, **extra)
        for keyword in KEYWORDS[category]:
            cells = {OTHER_DESCRIPTION: OTHER_PLACEHOLDER} if keyword == OTHER_KEYWORD else {}
            sheet.add(**head, **{category_column: keyword}, **cells, **extra)
    return index


def _missing(data: LoadedData, needs: dict[str, Iterable[str]]) -> str | None:
    gone = [m for dataset, columns in needs.items() for m in data.missing(dataset, list(columns))]
    return ("Left empty: " + ", ".join(gone) + " not in the data.") if gone else None


KEYWORD_NOTE = ("Sub-category (KEYWORD_*) rows are left empty: the engine keeps no category_specification "
                "values.")


def _unplaced(counts: dict[str, int], placed: Iterable[str], what: str) -> str | None:
    """A note naming what is counted in TOTAL only because the sheet has no row for its category."""
    rows = set(placed)
    extra = {c: n for c, n in counts.items() if c not in rows and n}
    if not extra:
        return None
    named = ", ".join(f"{c.removeprefix(CAT) if c != '-' else 'no category'}: {num(n)}"
                      for c, n in sorted(extra.items()))
    return f"Includes {num(sum(extra.values()))} {what} in categories without a row in this sheet ({named})."


HOURS_NOTE = ("Median in hours{what}; cases still open at period end count with their age then (a lower "
              "bound).")


def _orders(q: Query, data: LoadedData, tier: str, service: str, period: str) -> Sheet:
    """1.2 (Arts 9, 10): orders received in the period, by category and issuing Member State."""
    sheet = Sheet(S3, HEADERS[S3])
    head = {"Applicability": ALL, "Service": service, "Reporting period": period}
    categories = (*ILLEGAL_CATEGORIES, NOT_SPECIFIED_ORDER)
    blocks = {scope: _category_block(sheet, ILLEGAL_COLUMN, categories, head, Scope=scope)
              for scope in (TOTAL, *MEMBER_STATES)}
    first = blocks[TOTAL][TOTAL]
    sheet.note(first, ORDER_VALUES[0], KEYWORD_NOTE)
    sheet.note(first, ORDER_VALUES[1], "Left empty: the orders data does not give the items each order names.")
    gone = _missing(data, {"orders": ("kind", "received_at", "category", "member_state", "acknowledged_at",
                                      "effect_given_at", "outcome")})
    if gone:
        for header in ORDER_VALUES:
            sheet.note(first, header, gone)
        return sheet
    start, end = q.bounds
    rows = _ask(q,
        f"""
        WITH o AS (
            SELECT coalesce(CAST(category AS VARCHAR), $unspecified) AS cat, coalesce(member_state, '-') AS ms,
                   kind = $act AS act, kind = $info AS info, outcome = $refused AS refused,
                   {censored_hours("received_at", "acknowledged_at")} AS ack,
                   {censored_hours("received_at", "effect_given_at")} AS effect
            FROM orders WHERE received_at >= $start AND received_at < $end)
        SELECT cat, ms, count(*) FILTER (WHERE act), quantile_cont(ack, 0.5) FILTER (WHERE act),
               quantile_cont(effect, 0.5) FILTER (WHERE act AND refused IS NOT TRUE),
               count(*) FILTER (WHERE info), quantile_cont(ack, 0.5) FILTER (WHERE info),
               quantile_cont(effect, 0.5) FILTER (WHERE info AND refused IS NOT TRUE)
        FROM o GROUP BY GROUPING SETS ((cat, ms), (cat), (ms), ())
        """,  # noqa: S608 - fragments from code; every value is bound
        {"start": start, "end": end, "period_end": end, "unspecified": NOT_SPECIFIED_ORDER,
         "act": "ACT_AGAINST_ILLEGAL_CONTENT", "info": "PROVIDE_INFORMATION", "refused": "REFUSED"},
    )
    found = {(cat or TOTAL, ms or TOTAL): values for cat, ms, *values in rows}
    for scope, index in blocks.items():
        for category, row in index.items():
            values = found.get((category, scope), (0, None, None, 0, None, None))
            for header, value in zip((h for i, h in enumerate(ORDER_VALUES) if i != 1), values, strict=True):
                sheet.fill(row, header, value, "orders")
    by_category = {cat: values[0] + values[3] for (cat, ms), values in found.items() if ms == TOTAL and cat != TOTAL}
    note = _unplaced(by_category, categories, "orders")
    if note:
        sheet.note(first, ORDER_VALUES[0], note)
    outside = sum(values[0] + values[3] for (cat, ms), values in found.items()
                  if cat == TOTAL and ms not in (TOTAL, *MEMBER_STATES))
    if outside:
        sheet.note(first, ORDER_VALUES[4], f"Scope TOTAL includes {num(outside)} orders from no EU Member State "
                                           "or an unknown one.")
    for header, what in zip(ORDER_VALUES[2:4], (" from receipt to informing the authority of receipt",
                                               " from receipt to giving effect; refused orders left out"),
                            strict=True):
        sheet.note(first, header, HOURS_NOTE.format(what=what))
    return sheet


def _notices(q: Query, data: LoadedData, tier: str, service: str, period: str) -> Sheet:
    """1.3 (Art. 16): notices received in the period, by category."""
    sheet = Sheet(S4, HEADERS[S4])
    head = {"Applicability": HOSTING_ROWS, "Service": service, "Reporting period": period}
    categories = (*ILLEGAL_CATEGORIES, NOT_SPECIFIED_NOTICE)
    index = _category_block(sheet, ILLEGAL_COLUMN, categories, head)
    first = index[TOTAL]
    sheet.note(first, NOTICE_VALUES[0], KEYWORD_NOTE)
    for header in NOTICE_VALUES[2:4]:
        sheet.note(first, header, "Left empty: the notices data does not give the items each notice names.")
    gone = _missing(data, {"notices": ("received_at", "decided_at", "category", "source_type")})
    if gone:
        for header in NOTICE_VALUES:
            sheet.note(first, header, gone)
        return sheet
    basis_gone = _missing(data, {"notices": ("outcome", "action_basis")})
    start, end = q.bounds
    rows = _ask(q,
        f"""
        WITH n AS (
            SELECT coalesce(CAST(category AS VARCHAR), $unspecified) AS cat, source_type = $tf AS tf,
                   {censored_hours("received_at", "decided_at")} AS hours,
                   outcome = $taken AND action_basis = $law AS law,
                   outcome = $taken AND action_basis = $tc AS terms,
                   outcome = $taken AND action_basis IS NULL AS unknown
            FROM notices WHERE received_at >= $start AND received_at < $end)
        SELECT cat, count(*), count(*) FILTER (WHERE tf), quantile_cont(hours, 0.5),
               quantile_cont(hours, 0.5) FILTER (WHERE tf), count(*) FILTER (WHERE law),
               count(*) FILTER (WHERE law AND tf), count(*) FILTER (WHERE terms),
               count(*) FILTER (WHERE terms AND tf), count(*) FILTER (WHERE unknown)
        FROM n GROUP BY GROUPING SETS ((cat), ())
        """,  # noqa: S608 - fragments from code; every value is bound
        {"start": start, "end": end, "period_end": end, "unspecified": NOT_SPECIFIED_NOTICE,
         "tf": "SOURCE_TRUSTED_FLAGGER", "taken": "ACTION_TAKEN", "law": "ILLEGAL_CONTENT",
         "tc": "INCOMPATIBLE_CONTENT"},
    )
    found = {cat or TOTAL: values for cat, *values in rows}
    headers = [h for i, h in enumerate(NOTICE_VALUES) if i not in (2, 3)]
    for category, row in index.items():
        values = found.get(category, (0, 0, None, None, 0, 0, 0, 0, 0))
        for header, value in zip(headers, values[:8], strict=True):
            if basis_gone and header in NOTICE_VALUES[6:]:
                continue
            sheet.fill(row, header, value, "notices")
    if basis_gone:
        for header in NOTICE_VALUES[6:]:
            sheet.note(first, header, basis_gone)
    note = _unplaced({cat: v[0] for cat, v in found.items() if cat != TOTAL}, categories, "notices")
    if note:
        sheet.note(first, NOTICE_VALUES[0], note)
    unknown = found.get(TOTAL, (0,) * 9)[8]
    if unknown and not basis_gone:
        sheet.note(first, NOTICE_VALUES[6], f"{num(unknown)} notices acted on have no action_basis and are in "
                                            "neither count of actions.")
    for header in NOTICE_VALUES[4:6]:
        sheet.note(first, header, HOURS_NOTE.format(what=" from receipt to decision, every notice received"))
    return sheet


def _own_initiative(q: Query, data: LoadedData, tier: str, service: str, period: str) -> list[Sheet]:
    """1.4 (Art. 15(1)(c)): statements of reasons of the period with source SOURCE_VOLUNTARY, on the illegal
    ground (sheet 5) and on the terms-and-conditions ground (sheet 6), by category and type of restriction."""
    head = {"Applicability": ALL, "Service": service, "Reporting period": period}
    sheets = {"DECISION_GROUND_ILLEGAL_CONTENT": (Sheet(S5, HEADERS[S5]), ILLEGAL_COLUMN, ILLEGAL_CATEGORIES),
              "DECISION_GROUND_INCOMPATIBLE_CONTENT": (Sheet(S6, HEADERS[S6]), TC_COLUMN,
                                                       (*ILLEGAL_CATEGORIES, OTHER_TC))}
    indexes = {ground: _category_block(sheet, column, cats, head) for ground, (sheet, column, cats) in sheets.items()}
    for ground, (sheet, _, _) in sheets.items():
        first = indexes[ground][TOTAL]
        sheet.note(first, MEASURES, KEYWORD_NOTE)
        for header in (*RESTRICTIONS[:6], *RESTRICTIONS[10:]):
            sheet.note(first, header, "Left empty: the engine keeps no decision_visibility values other than "
                                      "DECISION_VISIBILITY_OTHER, nor decision_provision or decision_account.")
    gone = _missing(data, {"statements_of_reasons": ("application_date", "source_type", "decision_ground",
                                                     "category")})
    if gone:
        for ground, (sheet, _, _) in sheets.items():
            for header in OWN_VALUES:
                sheet.note(indexes[ground][TOTAL], header, gone)
        return [s for s, _, _ in sheets.values()]
    start, end = q.bounds
    rows = _ask(q,
        """
        SELECT decision_ground, coalesce(CAST(category AS VARCHAR), '-') AS cat, count(*),
               count(*) FILTER (WHERE automated_detection), count(*) FILTER (WHERE owes_decision_visibility_other),
               count(*) FILTER (WHERE decision_monetary = $m_suspension),
               count(*) FILTER (WHERE decision_monetary = $m_termination),
               count(*) FILTER (WHERE decision_monetary = $m_other)
        FROM sor
        WHERE application_date >= $start AND application_date < $end AND source_type = $voluntary
        GROUP BY GROUPING SETS ((decision_ground, cat), (decision_ground))
        """,
        {"start": start, "end": end, "voluntary": "SOURCE_VOLUNTARY", "m_suspension": "DECISION_MONETARY_SUSPENSION",
         "m_termination": "DECISION_MONETARY_TERMINATION", "m_other": "DECISION_MONETARY_OTHER"},
    )
    found = {(str(ground), cat or TOTAL): values for ground, cat, *values in rows}
    columns = {AUTOMATED_DETECTION: "automated_detection", RESTRICTIONS[6]: "owes_decision_visibility_other",
               **dict.fromkeys(RESTRICTIONS[7:10], "decision_monetary")}
    for ground, (sheet, _, categories) in sheets.items():
        first = indexes[ground][TOTAL]
        absent = {h: _missing(data, {"statements_of_reasons": (c,)}) for h, c in columns.items()}
        for header, why in absent.items():
            if why:
                sheet.note(first, header, why)
        for category, row in indexes[ground].items():
            values = found.get((ground, category), (0,) * 6)
            for header, value in zip((MEASURES, AUTOMATED_DETECTION, *RESTRICTIONS[6:10]), values, strict=True):
                if not absent.get(header):
                    sheet.fill(row, header, value, "statements_of_reasons")
        note = _unplaced({cat: v[0] for (g, cat), v in found.items() if g == ground and cat != TOTAL},
                         categories, "measures")
        if note:
            sheet.note(first, MEASURES, note)
        sheet.note(first, AUTOMATED_DETECTION, "Statements of reasons with automated_detection Yes (the TDB flag "
                                               "says automated means were used for detection).")
    return [s for s, _, _ in sheets.values()]


def _long(name: str, service: str, period: str) -> tuple[Sheet, Any]:
    sheet = Sheet(name, HEADERS[name])

    def add(applicability: str, section: str, indicator: str, scope: str) -> int:
        return sheet.add(Applicability=applicability, Service=service, **{"Reporting period": period},
                         Section=section, Indicator=indicator, Scope=scope)

    return sheet, add


def _put(sheet: Sheet, row: int, tier: str, value: Any, source: str, note: str | None = None) -> None:
    """Fill a long-format row when its Applicability reaches the tier, else say it is not filled."""
    applicability = sheet.rows[row]["Applicability"]
    if not reaches(applicability, tier):
        sheet.note(row, "Value", not_reached(applicability, tier))
        return
    sheet.fill(row, "Value", value, source)
    if note:
        sheet.note(row, "Value", note)


def _appeals(q: Query, data: LoadedData, tier: str, service: str, period: str) -> Sheet:
    """1.5 (Arts 15(1)(d), 24(1)): internal complaints, out-of-court disputes, Art. 23 suspensions."""
    sheet, add = _long(S7, service, period)
    start, end = q.bounds
    params = {"start": start, "end": end, "period_end": end}
    # internal complaints received in the period; outcomes of those decided by period end
    scopes = (UPHELD, PARTIAL, REVERSED, MEDIAN, OMITTED)
    rows = {scope: add(ALL if scope == TOTAL_NUMBER else PLATFORM_ROWS, COMPLAINTS_SECTION, COMPLAINTS, scope)
            for scope in (TOTAL_NUMBER, *scopes)}
    gone = _missing(data, {"complaints": ("received_at", "decided_at", "outcome")})
    if gone:
        for row in rows.values():
            _put(sheet, row, tier, None, "complaints", gone)
    else:
        n, upheld, partial, reversed_, median, open_ = _ask(q,
            f"""
            WITH c AS (SELECT outcome, {censored_hours("received_at", "decided_at")} AS hours,
                              {still_open("decided_at")} AS open
                       FROM complaints WHERE received_at >= $start AND received_at < $end)
            SELECT count(*), count(*) FILTER (WHERE NOT open AND outcome = $upheld),
                   count(*) FILTER (WHERE NOT open AND outcome = $partial),
                   count(*) FILTER (WHERE NOT open AND outcome = $reversed), quantile_cont(hours, 0.5) / 24,
                   count(*) FILTER (WHERE open)
            FROM c
            """,  # noqa: S608 - fragments from code; every value is bound
            {**params, "upheld": "DECISION_UPHELD", "partial": "DECISION_PARTIALLY_REVERSED",
             "reversed": "DECISION_REVERSED"},
        )[0]
        _put(sheet, rows[TOTAL_NUMBER], tier, n, "complaints")
        for scope, value in zip((UPHELD, PARTIAL, REVERSED), (upheld, partial, reversed_), strict=True):
            _put(sheet, rows[scope], tier, value, "complaints", "Complaints received in the period and decided by "
                                                                "period end.")
        _put(sheet, rows[MEDIAN], tier, median, "complaints",
             "Median in days (hours / 24) from receipt to decision; complaints still undecided at period end "
             "count with their age then (a lower bound).")
        _put(sheet, rows[OMITTED], tier, open_, "complaints", "Complaints received in the period still without a "
                                                              "decision at period end.")
    row = add(PLATFORM_ROWS, COMPLAINTS_SECTION, NEW_RESTRICTIONS, TOTAL_NUMBER)
    _put(sheet, row, tier, None, "complaints", "Left empty: the complaints data does not record restrictions "
                                               "imposed as a result of a complaint.")
    for basis in COMPLAINT_BASES:
        for scope in (TOTAL_NUMBER, UPHELD, PARTIAL, REVERSED, MEDIAN):
            row = add(PLATFORM_ROWS, COMPLAINTS_SECTION, basis, scope)
            if scope == TOTAL_NUMBER:
                _put(sheet, row, tier, None, "complaints", "Left empty: the data does not say which kind of "
                                                           "decision a complaint contested.")
            elif not reaches(PLATFORM_ROWS, tier):
                _put(sheet, row, tier, None, "complaints")
    _disputes(q, data, sheet, add, tier, params)
    _suspensions(q, data, sheet, add, tier, params)
    return sheet


def _disputes(q: Query, data: LoadedData, sheet: Sheet, add: Any, tier: str, params: dict) -> None:
    """Disputes submitted in the period: decisions in the provider's favour are "upheld", in the recipient's
    favour "reversed", withdrawn ones "omitted"; implemented = share of those in the recipient's favour
    implemented by period end, as a fraction."""
    scopes = (TOTAL_NUMBER, UPHELD, PARTIAL, REVERSED, MEDIAN, OMITTED, IMPLEMENTED)
    rows = {scope: add(PLATFORM_ROWS, ODS_SECTION, DISPUTES, scope) for scope in scopes}
    gone = _missing(data, {"odr_disputes": ("submitted_at", "closed_at", "outcome", "implemented_at")})
    if gone:
        for row in rows.values():
            _put(sheet, row, tier, None, "odr_disputes", gone)
        return
    n, provider, recipient, withdrawn, settled, pending, median, implemented = _ask(q,
        f"""
        WITH d AS (SELECT outcome, {censored_hours("submitted_at", "closed_at")} AS hours,
                          {still_open("closed_at")} AS open, implemented_at < $period_end AS implemented
                   FROM odr_disputes WHERE submitted_at >= $start AND submitted_at < $end)
        SELECT count(*), count(*) FILTER (WHERE NOT open AND outcome = $provider),
               count(*) FILTER (WHERE NOT open AND outcome = $recipient),
               count(*) FILTER (WHERE NOT open AND outcome = $withdrawn),
               count(*) FILTER (WHERE NOT open AND outcome = $settled), count(*) FILTER (WHERE open),
               quantile_cont(hours, 0.5) / 24,
               count(*) FILTER (WHERE NOT open AND outcome = $recipient AND implemented)
        FROM d
        """,  # noqa: S608 - fragments from code; every value is bound
        {**params, "provider": "IN_FAVOUR_OF_PROVIDER", "recipient": "IN_FAVOUR_OF_RECIPIENT",
         "withdrawn": "WITHDRAWN", "settled": "SETTLED"},
    )[0]
    src = "odr_disputes"
    _put(sheet, rows[TOTAL_NUMBER], tier, n, src, f"{num(pending)} still open at period end." if pending else None)
    _put(sheet, rows[UPHELD], tier, provider, src, "Decided in the provider's favour.")
    _put(sheet, rows[PARTIAL], tier, None, src, f"Left empty: the data records no partial reversal; {num(settled)} "
                                                 "disputes were settled.")
    _put(sheet, rows[REVERSED], tier, recipient, src, "Decided in the recipient's favour.")
    _put(sheet, rows[MEDIAN], tier, median, src, "Median in days from submission to closure; disputes still open "
                                                 "at period end count with their age then (a lower bound).")
    _put(sheet, rows[OMITTED], tier, withdrawn, src, "Withdrawn before a decision.")
    _put(sheet, rows[IMPLEMENTED], tier, implemented / recipient if recipient else None, src,
         f"Fraction (0-1): {num(implemented)} of {num(recipient)} decisions in the recipient's favour implemented "
         "by period end." if recipient else "No decision in the recipient's favour.")


def _suspensions(q: Query, data: LoadedData, sheet: Sheet, add: Any, tier: str, params: dict) -> None:
    """Art. 23 suspensions (enforcement_actions SUSPENSION in the period) by reason: illegal content or hidden
    links (the Art. 23(1) measure, as DSA-23.1 counts it), unfounded notices, unfounded complaints."""
    rows = [add(PLATFORM_ROWS, SUSPENSIONS_SECTION, indicator, TOTAL_NUMBER) for indicator in SUSPENSIONS]
    gone = _missing(data, {"enforcement_actions": ("action", "reason", "occurred_at")})
    if gone:
        for row in rows:
            _put(sheet, row, tier, None, "enforcement_actions", gone)
        return
    counts = _ask(q,
        """
        SELECT count(*) FILTER (WHERE reason IN ($illegal, $hidden)), count(*) FILTER (WHERE reason = $notices),
               count(*) FILTER (WHERE reason = $complaints)
        FROM enforcement_actions WHERE action = $suspension AND occurred_at >= $start AND occurred_at < $end
        """,
        {"start": params["start"], "end": params["end"], "illegal": MEASURE_REASONS[0], "hidden": MEASURE_REASONS[1],
         "notices": "UNFOUNDED_NOTICES",
         "complaints": "UNFOUNDED_COMPLAINTS", "suspension": "SUSPENSION"},
    )[0]
    notes = ("Suspensions with reason ILLEGAL_CONTENT or HIDDEN_LINKS.", None, None)
    for row, value, note in zip(rows, counts, notes, strict=True):
        _put(sheet, row, tier, value, "enforcement_actions", note)


def _automated(q: Query, data: LoadedData, tier: str, service: str, period: str) -> Sheet:
    """1.6 (Arts 15(1)(e), 42(2)(c)): measures by automation of the decision (SoRs of the period: FULLY is
    "solely", NOT_AUTOMATED "not"), notices by automation of their processing; accuracy is left to the
    provider, with the reversal on complaint of fully automated decisions as contextual information."""
    sheet, add = _long(S8, service, period)
    start, end = q.bounds
    params = {"start": start, "end": end, "period_end": end, "fully": "AUTOMATED_DECISION_FULLY",
              "none": "AUTOMATED_DECISION_NOT_AUTOMATED", "voluntary": "SOURCE_VOLUNTARY"}
    sor_gone = _missing(data, {"statements_of_reasons": ("application_date", "automated_decision", "source_type")})
    counts: dict[str, tuple] = {}
    if not sor_gone:
        found = {own: values for own, *values in _ask(q,
            """
            SELECT coalesce(source_type = $voluntary, FALSE) AS own,
                   count(*) FILTER (WHERE automated_decision = $fully),
                   count(*) FILTER (WHERE automated_decision = $none),
                   count(*) FILTER (WHERE automated_decision NOT IN ($fully, $none)),
                   count(*) FILTER (WHERE automated_decision IS NULL)
            FROM sor WHERE application_date >= $start AND application_date < $end
            GROUP BY GROUPING SETS ((own), ())
            """, params)}
        counts = {TOTAL_NUMBER: found.get(None, (0, 0, 0, 0)), OWN_INITIATIVE: found.get(True, (0, 0, 0, 0))}
    reversal = _reversal_note(q, data, params)
    for scope in (TOTAL_NUMBER, OWN_INITIATIVE):
        solely = add(ALL, AUTOMATED_SECTION, SOLELY, scope)
        not_ = add(ALL, AUTOMATED_SECTION, NOT_AUTOMATED, scope)
        if sor_gone:
            _put(sheet, solely, tier, None, "statements_of_reasons", sor_gone)
            _put(sheet, not_, tier, None, "statements_of_reasons", sor_gone)
        else:
            fully, none, partly, unknown = counts[scope]
            _put(sheet, solely, tier, fully, "statements_of_reasons",
                 "Statements of reasons of the period with automated_decision AUTOMATED_DECISION_FULLY.")
            _put(sheet, not_, tier, none, "statements_of_reasons",
                 f"AUTOMATED_DECISION_NOT_AUTOMATED; {num(partly)} partially automated and {num(unknown)} without "
                 "automated_decision are in neither row.")
        for i, indicator in enumerate(ACCURACY):
            _put(sheet, add(ALL, AUTOMATED_SECTION, indicator, scope), tier, None, "complaints",
                 (ACCURACY_NOTE + (reversal.get(scope) or "")) if i == 0 else None)
    notices_gone = _missing(data, {"notices": ("received_at", "automated_decision", "source_type")})
    if not notices_gone:
        found = _ask(q,
            """
            SELECT coalesce(source_type = $tf, FALSE) AS tf, count(*) FILTER (WHERE automated_decision = $fully),
                   count(*) FILTER (WHERE automated_decision = $none)
            FROM notices WHERE received_at >= $start AND received_at < $end GROUP BY GROUPING SETS ((tf), ())
            """, {**params, "tf": "SOURCE_TRUSTED_FLAGGER"})
        nam = {NAM_TOTAL: next(((f, n) for tf, f, n in found if tf is None), (0, 0)),
               NAM_TF: next(((f, n) for tf, f, n in found if tf is True), (0, 0))}
    for scope, applicability in ((NAM_TOTAL, HOSTING_ROWS), (NAM_TF, PLATFORM_ROWS)):
        for indicator, i in ((NAM_SOLELY, 0), (NAM_NOT, 1)):
            row = add(applicability, AUTOMATED_SECTION, indicator, scope)
            _put(sheet, row, tier, None if notices_gone else nam[scope][i], "notices", notices_gone or (
                "Notices received in the period with automated_decision "
                + ("AUTOMATED_DECISION_FULLY." if i == 0 else "AUTOMATED_DECISION_NOT_AUTOMATED.")))
        for indicator in ACCURACY:
            _put(sheet, add(applicability, AUTOMATED_SECTION, indicator, scope), tier, None, "notices",
                 ACCURACY_NOTE if indicator == ACCURACY[0] else None)
    for indicator in (SOLELY, NOT_AUTOMATED, *ACCURACY):
        for k, language in enumerate(LANGUAGES):
            _put(sheet, add(VLOP_ROWS, AUTOMATED_SECTION, indicator, language), tier, None, "statements_of_reasons",
                 "Left empty: the data gives no language of the content moderated." if k == 0 else None)
    return sheet


ACCURACY_NOTE = "Left empty: accuracy, precision and recall need a labelled sample the data does not hold."


def _reversal_note(q: Query, data: LoadedData, params: dict) -> dict[str, str]:
    """Of the complaints received in the period against fully automated decisions and decided by period end,
    how many were reversed in full or in part: an indicator of the error rate, not an accuracy."""
    if _missing(data, {"complaints": ("decision_puid", "received_at", "decided_at", "outcome"),
                       "statements_of_reasons": ("automated_decision", "source_type")}):
        return {}
    rows = _ask(q,
        f"""
        SELECT coalesce(s.source_type = $voluntary, FALSE) AS own, count(*),
               count(*) FILTER (WHERE c.outcome IN ($reversed, $partial))
        FROM complaints c JOIN sor s ON s.platform_uid = c.decision_puid
        WHERE c.received_at >= $start AND c.received_at < $end AND NOT {still_open("c.decided_at")}
          AND s.automated_decision = $fully
        GROUP BY GROUPING SETS ((own), ())
        """,  # noqa: S608 - fragment from code; every value is bound
        {**params, "reversed": "DECISION_REVERSED", "partial": "DECISION_PARTIALLY_REVERSED"},
    )
    notes = {}
    for own, decided, reversed_ in rows:
        scope = TOTAL_NUMBER if own is None else OWN_INITIATIVE if own else None
        if scope and decided:
            notes[scope] = (f" From the data: {num(reversed_)} of {num(decided)} complaints against fully automated "
                            f"decisions, received in the period and decided by period end, were reversed in full "
                            f"or in part ({reversed_ / decided:.1%}).")
    return notes


def _months(period: Period) -> list[str]:
    months, day = [], period.start.replace(day=1)
    while day <= period.end:
        months.append(f"{day.year:04d}-{day.month:02d}")
        day = (day + timedelta(days=32)).replace(day=1)
    return months


def _human_resources(q: Query, data: LoadedData, tier: str, service: str, period: str) -> Sheet:
    """1.7 (Art. 42(2)(a), (b)): moderation staff (full-time equivalents) per official language, the mean over
    the months of the period; the total is the mean of the monthly sums over the languages."""
    sheet, add = _long(S9, service, period)
    for indicator in (INTERNAL, EXTERNAL):
        _put(sheet, add(VLOP_ROWS, HR_SECTION, indicator, TOTAL_NUMBER), tier, None, "moderation_staff",
             "Left empty: moderation_staff does not tell internal from external moderators.")
    rows = {scope: add(VLOP_ROWS, HR_SECTION, LINGUISTIC, scope) for scope in (TOTAL_NUMBER, *LANGUAGES)}
    if not reaches(VLOP_ROWS, tier):
        for row in rows.values():
            _put(sheet, row, tier, None, "moderation_staff")
        return sheet
    why = _missing(data, {"moderation_staff": ("month", "language", "staff")})
    months = _months(q.period)
    if not why:
        found = _ask(q, "SELECT month, language, sum(staff) FROM moderation_staff WHERE month >= $first AND "
                        "month <= $last GROUP BY ALL", {"first": months[0], "last": months[-1]})
        absent = [m for m in months if m not in {month for month, _, _ in found}]
        why = f"Left empty: moderation_staff has no rows for {', '.join(absent)}." if absent else None
    if why:
        _put(sheet, rows[TOTAL_NUMBER], tier, None, "moderation_staff", why)
        return sheet
    by_language = {language: sum(s for _, lang, s in found if lang == language) / len(months)
                   for language in LANGUAGES}
    total = sum(s for _, _, s in found) / len(months)
    _put(sheet, rows[TOTAL_NUMBER], tier, total, "moderation_staff",
         "Full-time equivalents, mean over the months of the period of the sum over the languages.")
    for language in LANGUAGES:
        _put(sheet, rows[language], tier, by_language[language], "moderation_staff")
    return sheet


def _amar(q: Query, data: LoadedData, tier: str, service: str, period: str) -> Sheet:
    """1.8 (Art. 42(3)): average monthly active recipients, the mean over the calendar months of the period of
    the sum over the EU Member States (the metric avg_monthly_active_recipients_6m for a half-year), and per
    Member State the mean of its monthly figures."""
    sheet, add = _long(S10, service, period)
    rows = {scope: add(VLOP_VLOSE_ROWS, AMAR_SECTION, AMAR, scope) for scope in (TOTAL, *MEMBER_STATES)}
    if not reaches(VLOP_VLOSE_ROWS, tier):
        for row in rows.values():
            _put(sheet, row, tier, None, "active_recipients")
        return sheet
    why = _missing(data, {"active_recipients": ("month", "member_state", "active_recipients")})
    months = _months(q.period)
    found = [] if why else _ask(q,
        "SELECT month, member_state, sum(active_recipients) FROM active_recipients WHERE month >= $first AND "
        "month <= $last AND list_contains($eu, member_state) GROUP BY ALL",
        {"first": months[0], "last": months[-1], "eu": list(MEMBER_STATES)})
    if not why:
        absent = [m for m in months if m not in {month for month, _, _ in found}]
        why = f"Left empty: no active-recipient figures of EU Member States for {', '.join(absent)}." if absent \
            else None
    if why:
        _put(sheet, rows[TOTAL], tier, None, "active_recipients", why)
        return sheet
    _put(sheet, rows[TOTAL], tier, sum(n for _, _, n in found) / len(months), "active_recipients",
         "Mean over the months of the period of the monthly sum over the EU Member States.")
    for ms in MEMBER_STATES:
        mine = {month: n for month, state, n in found if state == ms}
        lacking = [m for m in months if m not in mine]
        _put(sheet, rows[ms], tier, None if lacking else sum(mine.values()) / len(months), "active_recipients",
             f"Left empty: no figure for {', '.join(lacking)}." if lacking else None)
    return sheet


def _qualitative(tier: str, service: str, period: str, answers: dict[str, str]) -> Sheet:
    sheet = Sheet(S11, HEADERS[S11])
    for applicability, indicator in QUALITATIVE:
        if not reaches(applicability, tier):
            value = not_reached(applicability, tier)
        else:
            value = answers.get(indicator, TO_BE_COMPLETED + " (no answer in the transparency_qualitative file).")
        sheet.add(Applicability=applicability, Service=service, **{"Reporting period": period},
                  Indicator=indicator, Value=value)
    return sheet


# ---- figures by key: the comparison with the findings and with a published report ---------------------------

KEY_COLUMNS = {S1: ("Indicator",), S2: ("Category label",), S3: (ILLEGAL_COLUMN, "Scope"), S4: (ILLEGAL_COLUMN,),
               S5: (ILLEGAL_COLUMN,), S6: (TC_COLUMN,), S11: ("Indicator",)}
LONG_KEY = ("Section", "Indicator", "Scope")


def _clean(text: Any) -> str:
    return "" if text is None else " ".join(str(text).split())


def value_columns(name: str) -> tuple[str, ...]:
    return {S3: ORDER_VALUES, S4: NOTICE_VALUES, S5: OWN_VALUES, S6: OWN_VALUES}.get(name, ("Value",))


def cells(name: str, rows: list[dict[str, Any]]) -> list[tuple[int, tuple, Any]]:
    """(row index, (sheet, row key, column), value) of the value cells of one sheet's rows, headers compared
    trimmed. A keyword row's key carries its category, since KEYWORD_OTHER repeats under every category; the long
    sheets are keyed by section, indicator and scope, so they need no sheet name (7 to 10 share their headers)."""
    out = []
    parent = None
    long = name in (S7, S8, S9, S10)
    for i, row in enumerate(rows):
        found = {_clean(k): v for k, v in row.items()}
        if long:
            key: tuple = tuple(_clean(found.get(c)) for c in LONG_KEY)
        else:
            key = tuple(_clean(found.get(c)) for c in KEY_COLUMNS.get(name, ()))
            if key and (key[0].startswith(CAT) or key[0] == TOTAL):
                parent = key[0]
            elif key and key[0].startswith("KEYWORD_"):
                key = (f"{parent}/{key[0]}", *key[1:])
        for column in value_columns(name):
            out.append((i, ("long" if long else name, key, column), found.get(column)))
    return out


def keyed(name: str, rows: list[dict[str, Any]]) -> dict[tuple, Any]:
    return {key: value for _, key, value in cells(name, rows)}


def identify(headers: Iterable[str]) -> str | None:
    """The sheet a CSV part holds, from its header row (trimmed); the long sheets 7 to 10 share one."""
    found = tuple(_clean(h) for h in headers)
    for name in (S1, S2, S3, S4, S5, S6, S7, S9, S11):
        if found == HEADERS[name]:
            return name
    return None


def figures(report: Report) -> dict[tuple, Any]:
    """The report's figures filled from the data, by key (see `cells`)."""
    out = {}
    for sheet in report.sheets:
        for i, key, value in cells(sheet.name, sheet.rows):
            if (i, key[2]) in sheet.sources:
                out[key] = value
    return out


def label(key: tuple) -> str:
    sheet, row, column = key
    where = " / ".join(x for x in row if x)
    return f"{sheet}: {where}: {column}" if sheet != "long" else f"{where}"


@dataclass(frozen=True)
class Difference:
    key: tuple
    published: Any
    data: Any
    kind: str  # "differs" | "missing in the published report"


def _number(value: Any) -> tuple[float | None, int | None]:
    """(value, decimals written) of a published cell: 6,706 and 68.8 and 0.403 are numbers; text is not."""
    if isinstance(value, bool) or value is None:
        return None, None
    if isinstance(value, int | float):
        text = repr(float(value)) if isinstance(value, float) else str(value)
    else:
        text = str(value).strip().replace(",", "").replace(" ", "")
    try:
        parsed = float(text)
    except ValueError:
        return None, None
    decimals = len(text.split(".")[1]) if "." in text and "e" not in text.lower() else None
    return parsed, decimals


def _part(key: tuple) -> tuple:
    """The sheet of a figure's key, or its section for the long sheets."""
    return (key[0], key[1][0]) if key[0] == "long" else (key[0],)


def compare(report: Report, published: dict[tuple, Any], tolerance: float = 0.0) -> list[Difference]:
    """Every figure of the data that the published report gives differently: beyond `tolerance` (relative),
    after rounding the data to the decimals the published figure was written with (rounding is no difference);
    a figure the data gives and the published report leaves empty is listed as missing. Only the sheets (for
    sheets 7 to 10: the sections) the published report holds are compared: one CSV part checks one sheet."""
    out = []
    given = {_part(key) for key in published}
    for key, value in figures(report).items():
        if not isinstance(value, int | float) or _part(key) not in given:
            continue
        theirs, decimals = _number(published.get(key))
        if theirs is None:
            out.append(Difference(key, published.get(key), value, "missing in the published report"))
            continue
        ours = round(value, decimals) if decimals is not None else value
        if abs(theirs - ours) > tolerance * max(abs(ours), abs(theirs)) + 1e-9:
            out.append(Difference(key, published.get(key), value, "differs"))
    return out


# Figures of the findings document the report repeats: metric name -> the report's cell. The Art. 23(1)
# suspensions appear in the findings only in DSA-23.1-PRIOR-WARNING's message ("... : N of M.").
RECONCILED = {
    "notice_count": (S4, (TOTAL,), NOTICE_VALUES[0]),
    "notice_median_decision_hours": (S4, (TOTAL,), NOTICE_VALUES[4]),
    "trusted_flagger_median_decision_hours": (S4, (TOTAL,), NOTICE_VALUES[5]),
    "complaint_count": ("long", (COMPLAINTS_SECTION, COMPLAINTS, TOTAL_NUMBER), "Value"),
    "complaint_median_resolution_days": ("long", (COMPLAINTS_SECTION, COMPLAINTS, MEDIAN), "Value"),
    "avg_monthly_active_recipients_6m": ("long", (AMAR_SECTION, AMAR, TOTAL), "Value"),
}
SUSPENSIONS_KEY = ("long", (SUSPENSIONS_SECTION, SUSPENSIONS[0], TOTAL_NUMBER), "Value")
PRIOR_WARNING = "DSA-23.1-PRIOR-WARNING"


@dataclass(frozen=True)
class Reconciled:
    figure: str
    report: Any
    findings: Any

    @property
    def equal(self) -> bool:
        """Equal; a float to the 15 significant digits a spreadsheet keeps (openpyxl writes 16)."""
        ours, theirs = self.report, self.findings
        if isinstance(ours, float) or isinstance(theirs, float):
            return isinstance(ours, int | float) and isinstance(theirs, int | float) and \
                math.isclose(ours, theirs, rel_tol=1e-14, abs_tol=1e-12)
        return ours == theirs


def reconcile(values: dict[tuple, Any], metrics: dict[str, dict], period: Period,
              findings: list[dict] | None = None) -> list[Reconciled]:
    """The report's figures (`values`: `figures(report)`, or a report read back) against the same figures in
    the findings document: its `metrics` and, when given, its `findings`. AMAR only for a period of six
    calendar months (the metric's window)."""
    out = []
    for metric, key in RECONCILED.items():
        if metric == "avg_monthly_active_recipients_6m" and len(_months(period)) != 6:
            continue
        found = metrics.get(metric, {}).get("value")
        if found is not None or values.get(key) is not None:
            out.append(Reconciled(metric, values.get(key), found))
    finding = next((f for f in findings or [] if f["obligation_id"] == PRIOR_WARNING), None)
    if finding is not None and finding["status"] not in ("INSUFFICIENT_DATA", "ERROR"):
        match = re.search(r" of ([\d,]+)\.$", finding["message"])
        total = int(match.group(1).replace(",", "")) if match else 0 if finding["status"] == "NOT_APPLICABLE" else None
        out.append(Reconciled("Art. 23(1) suspensions (DSA-23.1-PRIOR-WARNING)", values.get(SUSPENSIONS_KEY), total))
    return out
