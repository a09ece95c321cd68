"""E-mail files (``.eml``, RFC 822/5322 with MIME) as evidence, read with the standard library.

The message is stored byte for byte as a ``document`` exhibit; what is read from it:

* ``From``, ``To``, ``Cc``, ``Subject``, ``Message-ID`` (metadata ``email``);
* ``Date`` with its zone: the capture time (source ``email``), kept in the zone the sender's
  software wrote (a ``Date`` without a zone, or ``-0000``, is not used; a warning says so);
* the text body: the first ``text/plain`` part, else the text of the first ``text/html`` part
  (tags dropped), searchable like a PDF's text layer;
* attachments listed by name, type and size (decoded bytes), never extracted.

A file is read as e-mail when libmagic calls it ``message/rfc822`` or its name ends in
``.eml`` and it starts with header lines. Nothing here raises for bad input.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

MAX_EMAIL_BYTES = 64 * 1024 * 1024  # larger files are not parsed (still stored)
MAX_BODY_CHARS = 1_000_000
_HEADER_LINE = re.compile(rb"[A-Za-z][A-Za-z0-9-]{0,60}:[ \t]")
_HEADERS = ("from", "to", "cc", "subject", "message-id")


@dataclass
class EmailInfo:
    captured_at: datetime | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    body: str = ""
    warnings: list[str] = field(default_factory=list)


def looks_like_email(path: Path, mime: str, name: str) -> bool:
    if mime == "message/rfc822":
        return True
    if not name.lower().endswith(".eml"):
        return False
    try:
        with open(path, "rb") as f:
            head = f.read(4096)
    except OSError:
        return False
    lines = head.lstrip(b"\xef\xbb\xbf").splitlines()[:20]
    return sum(1 for line in lines if _HEADER_LINE.match(line)) >= 2


class _Text(HTMLParser):
    """The visible text of an HTML body: tags dropped, scripts and styles skipped, blocks on lines."""

    _BLOCKS = frozenset({"p", "div", "br", "tr", "li", "h1", "h2", "h3", "h4", "h5", "h6", "table", "blockquote"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skip = 0

    def handle_starttag(self, tag: str, attrs: Any) -> None:
        if tag in ("script", "style", "head"):
            self.skip += 1
        elif tag in self._BLOCKS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style", "head") and self.skip:
            self.skip -= 1
        elif tag in self._BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self.skip:
            self.parts.append(data)


def html_text(html: str) -> str:
    parser = _Text()
    try:
        parser.feed(html)
        parser.close()
    except Exception:  # a broken document: whatever was read so far
        pass
    text = "".join(parser.parts)
    lines = [" ".join(line.split()) for line in text.splitlines()]
    return "\n".join(line for line in lines if line).strip()


def _part_text(part: Any) -> str:
    try:
        content = part.get_content()
    except (LookupError, ValueError, AssertionError, UnicodeError):
        payload = part.get_payload(decode=True) or b""
        content = payload.decode("utf-8", errors="replace")
    return content if isinstance(content, str) else ""


def read_email(path: Path) -> EmailInfo:
    """What the e-mail at ``path`` says (see the module). Never raises."""
    from email import policy
    from email.parser import BytesParser
    from email.utils import parsedate_to_datetime

    info = EmailInfo()
    try:
        if path.stat().st_size > MAX_EMAIL_BYTES:
            info.warnings.append("e-mail too large to read its headers and text")
            return info
        with open(path, "rb") as f:
            message = BytesParser(policy=policy.default).parse(f)
    except Exception as exc:  # a damaged message: stored anyway, said so
        info.warnings.append(f"could not read it as an e-mail ({type(exc).__name__})")
        return info
    headers: dict[str, Any] = {}
    for name in _HEADERS:
        try:
            value = message.get(name)
        except Exception:  # a header the policy cannot parse
            value = None
        if value is not None:
            headers[name.replace("-", "_")] = " ".join(str(value).split())[:1000]
    raw_date = message.get("date", failobj=None) if "date" in message else None
    if raw_date is not None:
        headers["date"] = str(raw_date)[:200]
        try:
            when = parsedate_to_datetime(str(raw_date))
        except (TypeError, ValueError, IndexError, OverflowError):
            when = None
        if when is None:
            info.warnings.append(f"the e-mail's Date header cannot be read: {str(raw_date)[:80]!r}")
        elif when.tzinfo is None:
            info.warnings.append("the e-mail's Date header has no zone (-0000): not used as the capture time")
        elif not (1970 <= when.year <= 9999):
            info.warnings.append("the e-mail's Date header is out of range: not used as the capture time")
        else:
            info.captured_at = when
    else:
        info.warnings.append("the e-mail has no Date header")

    plain = html = None
    attachments = []
    try:
        for part in message.walk():
            if part.is_multipart():
                continue
            ctype = part.get_content_type()
            filename = part.get_filename()
            disposition = part.get_content_disposition()
            if filename or disposition == "attachment":
                payload = part.get_payload(decode=True) or b""
                attachments.append({"name": filename, "type": ctype, "size": len(payload)})
            elif ctype == "text/plain" and plain is None:
                plain = _part_text(part)
            elif ctype == "text/html" and html is None:
                html = _part_text(part)
    except Exception as exc:  # a damaged MIME structure
        info.warnings.append(f"could not read every part of the e-mail ({type(exc).__name__})")
    body = plain if plain and plain.strip() else html_text(html) if html else ""
    info.body = body[:MAX_BODY_CHARS]
    headers["body"] = "text/plain" if plain and plain.strip() else "text/html" if html else None
    headers["attachments"] = attachments
    info.metadata = {"email": headers}
    return info
