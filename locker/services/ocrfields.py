"""Order facts as OCR stored them, and the dispute fields they can fill: :func:`stored_facts` (what
``show`` and the pack show, what ``verify`` checks), :func:`propose_fields` (``locker edit DISPUTE
--from-exhibit N``) and :func:`from_screenshot_fields` (``locker new --from-screenshot FILE``).
A value the dispute holds is never replaced: it is reported as skipped. Re-exported by
services.ocrchat, which stores the facts.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .. import db, domain
from ..errors import NotFound, UsageError
from ..i18n import _
from ..paths import Home
from . import disputes


def stored_facts(conn: Any, number: int) -> dict[str, Any] | None:
    """The facts stored for one exhibit: ``{"engine", "page", "platform", "facts": [...]}``, or None."""
    from ..search import index as search_index

    row = search_index.dbapi(conn).execute(
        "SELECT engine, page, platform, facts FROM ocr_facts WHERE exhibit = ?", (number,)).fetchone()
    if row is None:
        return None
    try:
        facts = json.loads(row[3])
    except ValueError:
        facts = []
    return {"engine": row[0], "page": row[1], "platform": row[2], "facts": facts if isinstance(facts, list) else []}


@dataclass(frozen=True)
class Proposal:
    """What exhibit N's order facts would do to the dispute's fields: ``fill`` the empty ones (field
    -> value, with the fact's text and box), ``skipped`` those that hold a value already (field ->
    (current, read)). Nothing is written here."""

    slug: str
    exhibit: int
    fill: Mapping[str, Mapping[str, Any]]
    skipped: Mapping[str, tuple[str, str]]


def propose_fields(home: Home, ref: str, number: int) -> Proposal:
    """The dispute fields exhibit ``number``'s stored order facts can fill (never one that holds a
    value). The exhibit must have been read (``locker ocr``) and be an order page."""
    from . import exhibits as exhibit_service
    from .views import DisputeView

    opened = disputes.resolve(home, ref)
    with db.reading(opened.engine) as session:
        if exhibit_service.get_exhibit(session, number) is None:
            raise NotFound(_("{slug} has no exhibit {n}").format(slug=opened.slug, n=number))
        dispute = DisputeView.of(disputes._one_dispute(session))
        stored = stored_facts(session.connection(), number)
    if stored is None or not stored["facts"]:
        raise UsageError(_("exhibit {n} of {slug} has no order facts read from it (an order page read by `locker ocr`)").format(
            n=number, slug=opened.slug))
    current = {name: getattr(dispute, name) for name in domain.DISPUTE_FIELDS}
    fill, skipped = fields_from_facts(stored, current)
    return Proposal(opened.slug, number, fill, skipped)


def fields_from_facts(stored: Mapping[str, Any], current: Mapping[str, str | None]) -> tuple[
        dict[str, dict[str, Any]], dict[str, tuple[str, str]]]:
    """Split what the facts say into the fields to fill (empty now) and those to leave (set now)."""
    from ..ocr.facts import DISPUTE_FIELD

    wanted: dict[str, dict[str, Any]] = {}
    for fact in stored.get("facts") or ():
        field = DISPUTE_FIELD.get(str(fact.get("name")))
        if not field or field in wanted:
            continue
        value = str(fact.get("value") or "")
        if field == "purchased_on":
            value = value[:10]
        if value:
            wanted[field] = {"value": value, "fact": fact.get("name"), "text": fact.get("text"), "box": fact.get("box")}
    if stored.get("platform") and "platform" not in wanted:
        wanted["platform"] = {"value": stored["platform"], "fact": "platform", "text": None, "box": None}
    fill: dict[str, dict[str, Any]] = {}
    skipped: dict[str, tuple[str, str]] = {}
    for field, proposal in wanted.items():
        now = current.get(field)
        if now not in (None, ""):
            skipped[field] = (str(now), str(proposal["value"]))
        else:
            fill[field] = proposal
    return fill, skipped


def from_screenshot_fields(found: Any, typed: Mapping[str, str | None]) -> tuple[
        dict[str, dict[str, Any]], dict[str, tuple[str, str]]]:
    """``new --from-screenshot``: the fields the screenshot's facts fill, a value typed on the same
    command line winning (it is reported as skipped)."""
    stored = {"platform": found.platform, "facts": [f.as_dict() for f in found.facts]}
    return fields_from_facts(stored, typed)


def facts_view(conn: Any, number: int) -> dict[str, Any] | None:
    """The facts of one exhibit for ``show DISPUTE N`` (``--json`` ``"facts"``)."""
    return stored_facts(conn, number)
