"""The product's words, defined once: every layer imports them from here, and this module imports nothing.

The values are the contracts' (obligations.md, findings.schema.json, interfaces.md); a test checks that the
catalogue schema and the findings schema use the same sets.
"""

# Statuses, worst first: the order of the findings document, the report and the e-mails.
FAIL, WARN, ERROR, INSUFFICIENT_DATA, WAIVED, PASS, NOT_APPLICABLE = (
    "FAIL", "WARN", "ERROR", "INSUFFICIENT_DATA", "WAIVED", "PASS", "NOT_APPLICABLE")
STATUSES = (FAIL, WARN, ERROR, INSUFFICIENT_DATA, WAIVED, PASS, NOT_APPLICABLE)
WAIVABLE = (FAIL, WARN)  # a waiver covers only these; the underlying status is kept
QUIET = (PASS, NOT_APPLICABLE)  # nothing to act on
STATUS_MEANINGS = {
    PASS: "the data was sufficient and the rule holds",
    WARN: "the rule holds, but an indicator crossed its warning threshold, or the rule is advisory",
    FAIL: "the rule is broken; `evidence` lists what breaks it",
    WAIVED: "it would be FAIL or WARN, but an unexpired waiver covers it; the underlying status is kept",
    NOT_APPLICABLE: "the platform's tier is outside the obligation's tiers, or nothing in the period is in scope",
    INSUFFICIENT_DATA: "a dataset, column or register it needs is missing or empty: the finding names which",
    ERROR: "the check itself failed; the message is kept. Never turned into PASS",
}

SEVERITIES = ("CRITICAL", "HIGH", "MEDIUM", "LOW")  # worst first

# What an obligation's rule reads (obligations.md): the article itself, a sign of a qualitative duty whose limits
# are the platform's policy, or advice that is never worse than WARN.
DUTY, INDICATOR, ADVISORY = "DUTY", "INDICATOR", "ADVISORY"
KINDS = (DUTY, INDICATOR, ADVISORY)
# Where a parameter's figure comes from: the Regulation's text, or an internal threshold of the platform.
LAW, POLICY = "LAW", "POLICY"
BASES = (LAW, POLICY)

# Platform tiers, cumulative from the lowest: a VLOP is bound by everything below it.
HOSTING, PLATFORM, MARKETPLACE, VLOP = "HOSTING", "PLATFORM", "MARKETPLACE", "VLOP"
TIERS = (HOSTING, PLATFORM, MARKETPLACE, VLOP)

TRIGGERS = ("schedule", "manual", "cli")

AUDIENCES = ("board", "compliance", "trust_and_safety")

# What became of one audience's e-mail in one invocation: SES accepted it (sent); it had been sent before
# (duplicate); SES refused it or was never reached, and a retry may send it (failed); SES may or may not have
# accepted it, so it is not sent again without a person deciding (unknown); another invocation holds its
# claim, so this one must fail and be retried (in_progress).
SENT, DUPLICATE, FAILED, UNKNOWN, IN_PROGRESS = "sent", "duplicate", "failed", "unknown", "in_progress"
DELIVERY_STATES = (SENT, DUPLICATE, FAILED, UNKNOWN, IN_PROGRESS)

# The artifacts of a run, by name, and their content types (archive, e-mail attachments, local folder).
FINDINGS_JSON = "findings.json"
FINDINGS_CSV = "findings.csv"
REPORT_HTML = "report.html"
MANIFEST = "manifest.json"
EVIDENCE_FOLDER = "evidence"
EMAIL_FOLDER = "emails"
CONTENT_TYPES = {
    ".json": "application/json",
    ".jsonl": "application/x-ndjson",
    ".csv": "text/csv; charset=utf-8",
    ".html": "text/html; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
    ".eml": "message/rfc822",
}
OCTET_STREAM = "application/octet-stream"


def content_type(name: str) -> str:
    """The content type of an artifact name, by its suffix."""
    dot = name.rfind(".")
    return CONTENT_TYPES.get(name[dot:].lower(), OCTET_STREAM) if dot > name.rfind("/") else OCTET_STREAM
