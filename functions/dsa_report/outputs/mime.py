"""Build the MIME message of one report e-mail (stdlib only).

Shape: multipart/mixed[ multipart/alternative(text/plain, text/html), attachment, ... ], the layout SES
`Content.Raw` sends as it is (moto keeps raw messages whole, unlike v2 Simple attachments). With inline images
the HTML part becomes multipart/related(text/html, image/png; Content-ID), which Gmail, Outlook and Apple Mail
show in place (`<img src="cid:...">`), unlike SVG or data: URLs.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, getaddresses, make_msgid

DEFAULT_MAX_BYTES = 10_000_000  # SES v1 limit (v2: 40 MB); the encoded message counts, base64 adds ~33%


class MessageTooLarge(ValueError):
    """The encoded message exceeds the size SES accepts."""


@dataclass(frozen=True)
class InlineImage:
    cid: str  # Content-ID without angle brackets; the HTML refers to it as `cid:<cid>`
    filename: str
    content: bytes
    mimetype: str = "image/png"


@dataclass(frozen=True)
class Attachment:
    filename: str
    content: bytes
    mimetype: str  # e.g. "application/json", "text/csv"


def _domain(address: str) -> str | None:
    parsed = getaddresses([address])
    addr = parsed[0][1] if parsed else ""
    return addr.rpartition("@")[2] or None


def _cte(body: str) -> str | None:
    """Quoted-printable for non-ASCII bodies: SES asks for 7-bit content, the SMTP policy would send 8bit."""
    return None if body.isascii() else "quoted-printable"


def build_message(
    *,
    sender: str,
    recipients: list[str],
    subject: str,
    text: str,
    html: str,
    attachments: list[Attachment],
    headers: dict[str, str] | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
    inline: list[InlineImage] | tuple[InlineImage, ...] = (),
) -> EmailMessage:
    """A text + HTML e-mail with attachments; raises MessageTooLarge beyond `max_bytes` once encoded."""
    if not recipients:
        raise ValueError("an e-mail needs at least one recipient")
    msg = EmailMessage(policy=SMTP)
    msg["From"] = sender
    msg["To"] = ", ".join(recipients)
    msg["Subject"] = subject
    msg["Date"] = format_datetime(datetime.now(UTC))
    msg["Message-ID"] = make_msgid(domain=_domain(sender))
    for name, value in (headers or {}).items():
        del msg[name]  # a caller's header replaces ours instead of duplicating it
        msg[name] = value
    msg.set_content(text, cte=_cte(text))
    msg.add_alternative(html, subtype="html", cte=_cte(html))
    html_part = msg.get_payload()[1]
    for image in inline:
        maintype, _, subtype = image.mimetype.partition("/")
        html_part.add_related(image.content, maintype=maintype, subtype=subtype, cid=f"<{image.cid}>",
                              filename=image.filename, disposition="inline")
    for attachment in attachments:
        maintype, _, subtype = attachment.mimetype.partition("/")
        msg.add_attachment(
            attachment.content,
            maintype=maintype,
            subtype=subtype or "octet-stream",
            filename=attachment.filename,
        )
    size = len(msg.as_bytes())
    if size > max_bytes:
        names = ", ".join(f"{a.filename} ({len(a.content):,} bytes)" for a in attachments) or "none"
        raise MessageTooLarge(
            f"e-mail is {size:,} bytes encoded, over the {max_bytes:,}-byte limit; attachments: {names}. "
            "Send a link to the archived artifacts instead."
        )
    return msg
