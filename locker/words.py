"""The plain words of the locker's vocabulary: kinds, statuses, languages, field names.

Kept apart from :mod:`locker.domain` (which re-exports every name here) because the
command line's start-up needs only these tuples of words, and ``domain``'s custody
readings cost tens of milliseconds of class building to import. No imports beyond
``typing``, so any layer may use it.
"""

from __future__ import annotations

from typing import Final

# What an exhibit is, as ``add --kind`` accepts and ``show``/the pack name it.
KINDS: Final = ("screenshot", "photo", "video", "audio", "chat", "document", "other")

# What a line of a chat transcript is.
MESSAGE_KINDS: Final = ("message", "media", "service", "unparsed")
# Where a message came from: parsed from a chat export, or machine-read (OCR) from a screenshot.
MESSAGE_SOURCES: Final = ("export", "ocr")

# Where a dispute stands (``locker status``), in the order a dispute usually goes.
STATUSES: Final = ("open", "negotiating", "appealed", "complained", "resolved", "rejected", "closed")

# The languages of the pack and the command line; the first is the default.
LANGS: Final = ("zh", "en")

# How a chat's numeric dates are read when the data cannot tell, and who decided.
DATE_ORDERS: Final = ("dmy", "mdy", "ymd")
DATE_ORDER_SOURCES: Final = ("option", "profile", "data", "locale", "assumed")

# A picture this many times taller than wide (or wider than tall) is a long
# screenshot: it is cut into page-sized slices instead of being shrunk.
LONG_RATIO: Final = 2.5

# The longest title a dispute may have, in characters (``new`` and ``edit`` refuse a longer one):
# a title names the dispute in lists, the pack's cover and its file's metadata.
TITLE_MAX: Final = 200

# The facts of a dispute the user types (``new``), beside its id, slug, title and status.
DISPUTE_FIELDS: Final = (
    "platform", "merchant", "merchant_address", "order_id", "item",
    "amount", "currency", "purchased_on", "claim", "summary",
)
# Of those, the free text that search indexes (with the title).
DISPUTE_TEXT_FIELDS: Final = ("title", "merchant", "merchant_address", "order_id", "item", "claim", "summary")

# The facts of an exhibit recorded in its ``exhibit.added`` custody entry, which
# ``verify`` checks the exhibit's row against.
EXHIBIT_FIELDS: Final = (
    "number", "sha256", "size", "mime", "kind", "original_name", "title", "source", "purpose", "note",
    "captured_at", "captured_at_source", "ingested_at",
)
# Of those, the free text that search indexes.
EXHIBIT_TEXT_FIELDS: Final = ("original_name", "title", "source", "purpose", "note")

PDF_MIME: Final = "application/pdf"  # a PDF's text layer is read for search (search.index.pdf_pages)

# Types read as text (a chat export may be any of them) besides text/*.
TEXT_MIMES: Final = frozenset({"application/json", "application/csv", "application/x-csv", "application/x-ndjson"})


def is_text_mime(mime: str) -> bool:
    """Could a file of this sniffed type be a chat export in text (or a text that looks like one)?"""
    return mime.startswith("text/") or mime in TEXT_MIMES
