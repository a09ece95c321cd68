"""Reading an unpacked bundle back into a dispute's rows (``locker import``).

The rows of a dispute are what its custody log says, replayed: the dispute as its
``dispute.created`` entry recorded it, then every status change, correction and
rename; each exhibit as its ``exhibit.added`` entry recorded it, then every reread,
correction, withdrawal and restore; events, exports, deadlines and machine-read
order facts as their entries recorded them. This is the same replay ``locker verify``
checks a dispute with, so a dispute made from an intact bundle verifies.

What the log does not hold comes from the bundle's other members: each exhibit's
metadata and ``updated_at`` from ``data/dispute.json`` (checked against the replay
for everything both say), chat messages from ``data/messages/NNN.json`` (checked
against the digest the log recorded), the originals from ``data/originals/``
(checked against the SHA-256 and size the log recorded).

Pure reading: nothing here writes. Every problem found is collected (``Problem``),
not raised, so that ``import`` can name them all and ``--allow-damaged`` can go on.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from .. import custody, domain, store
from ..i18n import _

NUMBERED = re.compile(r"^(\d{3,})-")
MESSAGE_FILE = re.compile(r"^(\d{3,})\.json$")
MESSAGE_KINDS = domain.MESSAGE_KINDS


@dataclass(frozen=True)
class Problem:
    """What is wrong with the bundle: a stable code, the member concerned, one line for people."""

    problem: str
    member: str | None
    detail: str


@dataclass
class Rows:
    """The rows a dispute database gets, column → value, as the replay made them."""

    dispute: dict[str, Any] = field(default_factory=dict)
    exhibits: dict[int, dict[str, Any]] = field(default_factory=dict)
    messages: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    events: dict[int, dict[str, Any]] = field(default_factory=dict)
    exports: dict[int, dict[str, Any]] = field(default_factory=dict)
    deadlines: dict[int, dict[str, Any]] = field(default_factory=dict)
    ocr_facts: dict[int, dict[str, Any]] = field(default_factory=dict)
    timestamps: list[str] = field(default_factory=list)  # tokens' files (timestamps/NNN-kind.tsr) as recorded


@dataclass
class Bundle:
    """An unpacked bundle, read: its bag folder, its custody entries (as stored rows), the rows
    replayed from them, each exhibit's original file, and every problem found on the way."""

    root: Path
    slug: str
    chain: list[dict[str, Any]]
    rows: Rows
    originals: dict[int, Path]
    problems: list[Problem]
    absent: tuple[int, ...] = ()  # exhibits the bundle leaves out by design (not in its pack: withdrawn, --exclude)

    @property
    def head(self) -> dict[str, Any] | None:
        return self.chain[-1] if self.chain else None


def top_folder(files: Mapping[str, Path]) -> str:
    """The bag's one top folder (``<slug>/``); ValueError when the members have none or several."""
    tops = {name.split("/", 1)[0] for name in files}
    if len(tops) != 1 or any("/" not in name for name in files):
        raise ValueError(_("a bundle holds exactly one top folder, this archive holds {count}").format(count=len(tops)))
    return tops.pop()


def read(root: Path) -> Bundle:
    """Read the bag folder ``root`` (``<unpacked>/<slug>``)."""
    problems: list[Problem] = []
    data = root / "data"
    chain = _read_chain(data / "custody.jsonl", problems)
    rows, digests, transcribed = replay(chain)
    shown = _read_json(data / "dispute.json", "data/dispute.json", problems)
    _merge_shown(rows, shown, problems)
    _read_messages(data / "messages", rows, digests, transcribed, problems)
    carried = _carried(chain, rows)
    originals = _originals(data / "originals", rows, carried, problems)
    _check_timestamps(data, rows, problems)
    slug = rows.dispute.get("slug") or root.name
    absent = tuple(sorted(n for n in rows.exhibits if n not in carried and n not in originals))
    return Bundle(root, slug, chain, rows, originals, problems, absent)


TOKEN_FILE = re.compile(r"^timestamps/[^/]+\.tsr$")


def _check_timestamps(data: Path, rows: Rows, problems: list[Problem]) -> None:
    """Each token the custody log records is in ``data/timestamps/`` under the name it was stored
    with (its bytes and what it stamps are checked by ``verify`` once it is in place)."""
    kept = []
    for file in rows.timestamps:
        member = f"data/{file}"
        if not TOKEN_FILE.match(file) or ".." in file:
            problems.append(Problem("timestamp_unrecorded", member, _("a token file name the bundle layout does not know")))
        elif not (data / file).is_file():
            problems.append(Problem("member_missing", member, _("{member} is not in the bundle").format(member=member)))
        else:
            kept.append(file)
    rows.timestamps = kept


def _carried(chain: Sequence[Mapping[str, Any]], rows: Rows) -> set[int]:
    """The exhibits the bundle must carry: those of its pack, the last ``export.created`` of its log
    (a bundle leaves out what its pack leaves out: withdrawn exhibits, ``--exclude``); every
    exhibit when the log records no pack."""
    for entry in reversed(chain):
        if entry["action"] == domain.EXPORT_CREATED:
            try:
                reading = domain.read_entry(entry["action"], json.loads(entry["payload"]))
            except ValueError:
                break
            if isinstance(reading, domain.ExportCreated) and reading.exhibits is not None:
                return set(reading.exhibits)
            break
    return set(rows.exhibits)


# --------------------------------------------------------------------------- the custody log


def _read_json(path: Path, member: str, problems: list[Problem]) -> Any:
    try:
        return json.loads(path.read_bytes())
    except FileNotFoundError:
        problems.append(Problem("member_missing", member, _("{member} is not in the bundle").format(member=member)))
    except (ValueError, UnicodeDecodeError):
        problems.append(Problem("member_unreadable", member, _("{member} is not JSON").format(member=member)))
    return None


def _read_chain(path: Path, problems: list[Problem]) -> list[dict[str, Any]]:
    """The custody entries as ``locker log --json`` prints them, turned into stored rows (the
    payload as its canonical text), and the chain checked the way ``verify`` checks it."""
    member = "data/custody.jsonl"
    try:
        lines = path.read_bytes().decode("utf-8").splitlines()
    except FileNotFoundError:
        problems.append(Problem("member_missing", member, _("{member} is not in the bundle").format(member=member)))
        return []
    except UnicodeDecodeError:
        problems.append(Problem("member_unreadable", member, _("{member} is not UTF-8 text").format(member=member)))
        return []
    chain: list[dict[str, Any]] = []
    keys = ("seq", "v", "at", "actor", "action", "prev_hash", "hash")
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            doc = json.loads(line)
            row = {k: doc[k] for k in keys}
            row["payload"] = custody.canonical(doc["payload"]).decode("utf-8")
        except (ValueError, KeyError, TypeError):
            problems.append(Problem("custody_unreadable", member, _("line {line} is not a custody entry").format(line=number)))
            continue
        if not (type(row["seq"]) is int and type(row["v"]) is int
                and all(isinstance(row[k], str) for k in ("at", "actor", "action", "prev_hash", "hash"))):
            problems.append(Problem("custody_unreadable", member, _("line {line} is not a custody entry").format(line=number)))
            continue
        chain.append(row)
    if not chain:
        problems.append(Problem("custody_empty", member, _("the custody log is empty")))
    for found in custody.check_chain([SimpleNamespace(**row) for row in chain]):
        problems.append(Problem(found.problem, member, found.detail))
    return chain


Digests = dict[int, domain.MessagesDigest | None]


def replay(chain: Sequence[Mapping[str, Any]]) -> tuple[Rows, Digests, set[int]]:
    """The rows the custody log describes, each entry applied in order; also each exhibit's
    messages digest as the newest entry recorded it, and the exhibits read by OCR."""
    rows = Rows()
    digests: Digests = {}
    transcribed: set[int] = set()
    for entry in chain:
        try:
            payload = json.loads(entry["payload"])
        except ValueError:
            continue
        reading = domain.read_entry(entry["action"], payload)
        at = entry["at"]
        if isinstance(reading, domain.DisputeCreated):
            rows.dispute = {k: v for k, v in reading.facts.items()}
            rows.dispute.setdefault("currency", "CNY")
            rows.dispute["updated_at"] = at
        elif isinstance(reading, domain.StatusChanged):
            rows.dispute.update(status=reading.after, updated_at=at)
        elif isinstance(reading, domain.DisputeEdited):
            rows.dispute.update({c.field: c.after for c in reading.changes})
            rows.dispute["updated_at"] = at
        elif isinstance(reading, domain.DisputeRenamed):
            rows.dispute["slug"] = reading.after
        elif isinstance(reading, domain.ExhibitAdded) and reading.exhibit is not None:
            row = {k: reading.recorded(k) for k in domain.EXHIBIT_FIELDS}
            rows.exhibits[reading.exhibit] = {**row, "metadata": "{}", "warnings": "[]", "withdrawn": False,
                                              "withdrawn_reason": None}
            digests[reading.exhibit] = reading.messages
        elif isinstance(reading, domain.ExhibitReread) and reading.exhibit in rows.exhibits:
            number = reading.exhibit
            rows.exhibits[number].update({k: getattr(reading, k) for k in reading.changes if k != "messages"})
            if "messages" in reading.changes:
                digests[number] = reading.messages
        elif isinstance(reading, domain.ExhibitEdited) and reading.exhibit in rows.exhibits:
            rows.exhibits[reading.exhibit].update({c.field: c.after for c in reading.changes})
        elif isinstance(reading, domain.MessageEdited) and reading.exhibit in rows.exhibits:
            digests[reading.exhibit] = reading.messages
        elif isinstance(reading, domain.ExhibitTranscribed) and reading.exhibit in rows.exhibits:
            number = reading.exhibit
            found = reading.messages if reading.messages is None or reading.messages.count != 0 else None
            digests[number] = found
            transcribed.add(number)
            rows.ocr_facts[number] = {"engine": reading.engine, "page": reading.page, "platform": reading.platform,
                                      "facts": json.dumps([dict(f) for f in reading.facts or ()], ensure_ascii=False),
                                      "read_at": at}
        elif isinstance(reading, domain.ExhibitWithdrawn) and reading.exhibit in rows.exhibits:
            rows.exhibits[reading.exhibit].update(withdrawn=True, withdrawn_reason=reading.reason)
        elif isinstance(reading, domain.ExhibitRestored) and reading.exhibit in rows.exhibits:
            rows.exhibits[reading.exhibit].update(withdrawn=False, withdrawn_reason=None)
        elif isinstance(reading, domain.EventAdded) and reading.event is not None:
            rows.events[reading.event] = {"at": reading.at, "type": reading.type, "description": reading.description,
                                          "exhibits": json.dumps(list(reading.exhibits or ())), "created_at": at}
        elif isinstance(reading, domain.ExportCreated) and reading.export is not None:
            rows.exports[reading.export] = {"at": at, "path": reading.path, "sha256": reading.sha256,
                                            "pages": reading.pages, "lang": reading.lang,
                                            "exhibits": json.dumps(list(reading.exhibits or ()))}
        elif isinstance(reading, domain.DeadlineAdded) and reading.deadline is not None:
            rows.deadlines[reading.deadline] = {"due": reading.due, "date_only": bool(reading.date_only),
                                                "text": reading.text,
                                                "exhibits": json.dumps(list(reading.exhibits or ())),
                                                "created_at": at, "done_at": None}
        elif isinstance(reading, domain.DeadlineDone) and reading.deadline in rows.deadlines:
            rows.deadlines[reading.deadline]["done_at"] = reading.done_at
        elif isinstance(reading, domain.DeadlineRemoved):
            rows.deadlines.pop(reading.deadline or -1, None)
        elif isinstance(reading, domain.TimestampAdded) and reading.file:
            rows.timestamps.append(reading.file)
    return rows, digests, transcribed


# --------------------------------------------------------------------------- the other members


DISPUTE_SHOWN = ("slug", "id", "title", *domain.DISPUTE_FIELDS, "status", "created_at")
EXHIBIT_SHOWN = {"exhibit": "number", **{k: k for k in domain.EXHIBIT_FIELDS if k != "number"}}


def _merge_shown(rows: Rows, shown: Any, problems: list[Problem]) -> None:
    """Take what only ``data/dispute.json`` holds (``updated_at``, each exhibit's metadata) and
    check that it says what the custody log says about the rest."""
    member = "data/dispute.json"
    if not isinstance(shown, dict):
        if shown is not None:
            problems.append(Problem("member_unreadable", member, _("{member} is not a dispute").format(member=member)))
        return
    differs = sorted(k for k in DISPUTE_SHOWN if k in shown and rows.dispute.get(k) != shown[k] and k != "slug")
    if differs:
        problems.append(Problem("dispute_differs", member, _("the dispute's {fields} differ from the custody log").format(
            fields=", ".join(differs))))
    if isinstance(shown.get("updated_at"), str):
        rows.dispute["updated_at"] = shown["updated_at"]
    listed = {e.get("exhibit"): e for e in shown.get("exhibits") or () if isinstance(e, dict)}
    for number, row in rows.exhibits.items():
        doc = listed.pop(number, None)
        if doc is None:
            problems.append(Problem("exhibit_unlisted", member, _("exhibit {number} is in the custody log but not in {member}").format(
                number=number, member=member)))
            continue
        differs = sorted(k for k, col in EXHIBIT_SHOWN.items() if k in doc and doc[k] != row[col])
        if "withdrawn" in doc and bool(doc["withdrawn"]) != bool(row["withdrawn"]):
            differs.append("withdrawn")
        if differs:
            problems.append(Problem("exhibit_differs", member, _("exhibit {number}'s {fields} differ from the custody log").format(
                number=number, fields=", ".join(differs))))
        if isinstance(doc.get("metadata"), dict):
            row["metadata"] = json.dumps(doc["metadata"], ensure_ascii=False, sort_keys=True)
    for extra in sorted(listed, key=str):
        problems.append(Problem("exhibit_unrecorded", member, _("exhibit {number} is listed but no custody entry records it").format(
            number=extra)))


def _read_messages(folder: Path, rows: Rows, digests: Digests, transcribed: set[int], problems: list[Problem]) -> None:
    """Each chat's messages from ``data/messages/NNN.json``, checked against the count and SHA-256
    the custody log recorded last for that exhibit."""
    found: dict[int, Path] = {}
    if folder.is_dir():
        for item in folder.iterdir():
            m = MESSAGE_FILE.match(item.name)
            if m and item.is_file():
                found[int(m.group(1))] = item
            else:
                problems.append(Problem("member_unexpected", f"data/messages/{item.name}",
                                        _("a file the bundle layout does not know")))
    for number in sorted(set(digests) | set(found)):
        member = f"data/messages/{number:03d}.json"
        want = digests.get(number)
        path: Path | None = found.pop(number, None)
        if number not in rows.exhibits:
            problems.append(Problem("messages_unrecorded", member, _("messages of an exhibit the custody log does not record")))
            continue
        if want is None or not want.count:
            if path is not None:
                problems.append(Problem("messages_unrecorded", member, _("messages that no custody entry records")))
            continue
        if path is None:
            problems.append(Problem("member_missing", member, _("{member} is not in the bundle").format(member=member)))
            continue
        doc = _read_json(path, member, problems)
        messages = _messages_of(doc)
        if messages is None:
            problems.append(Problem("member_unreadable", member, _("{member} is not a chat document").format(member=member)))
            continue
        source = "ocr" if number in transcribed else "export"
        for message in messages:
            message["source"] = source
        rows.messages[number] = messages
        if (len(messages), _digest(messages)) != (want.count, want.sha256):
            problems.append(Problem("messages_altered", member, _(
                "{stored} messages do not match the {recorded} the custody log recorded").format(
                stored=len(messages), recorded=want.count)))


def _messages_of(doc: Any) -> list[dict[str, Any]] | None:
    if not isinstance(doc, dict) or not isinstance(doc.get("messages"), list):
        return None
    out = []
    for i, m in enumerate(doc["messages"]):
        if not isinstance(m, dict) or not isinstance(m.get("text"), str):
            return None
        position = m.get("position", i)
        kind = m.get("kind") or ("service" if m.get("system") else "message")
        at, sender = m.get("at"), m.get("sender")
        if (type(position) is not int or kind not in MESSAGE_KINDS or not isinstance(at, (str, type(None)))
                or not isinstance(sender, (str, type(None)))):
            return None
        out.append({"position": position, "at": at, "sender": sender, "text": m["text"], "me": bool(m.get("me")),
                    "kind": kind})
    return out


def _digest(messages: Sequence[Mapping[str, Any]]) -> str:
    """The digest ``services.chat.digest_rows`` computes: one canonical JSON array per message."""
    h = hashlib.sha256()
    for m in messages:
        line = json.dumps([m["position"], m["at"], m["sender"], m["text"], bool(m["me"]), m["kind"]],
                          ensure_ascii=False, separators=(",", ":"))
        h.update(line.encode("utf-8") + b"\n")
    return h.hexdigest()


def _originals(folder: Path, rows: Rows, carried: set[int], problems: list[Problem]) -> dict[int, Path]:
    """Each exhibit's original (``data/originals/NNN-name``), hashed and checked against its entry."""
    found: dict[int, Path] = {}
    if folder.is_dir():
        for path in sorted(folder.iterdir()):
            m = NUMBERED.match(path.name)
            member = f"data/originals/{path.name}"
            if not m or not path.is_file() or int(m.group(1)) in found:
                problems.append(Problem("member_unexpected", member, _("a file the bundle layout does not know")))
                continue
            found[int(m.group(1))] = path
    originals: dict[int, Path] = {}
    for number, row in sorted(rows.exhibits.items()):
        original: Path | None = found.pop(number, None)
        if original is None and number not in carried:
            continue
        if original is None:
            problems.append(Problem("original_missing", None, _("the original of exhibit {number} is not in the bundle").format(
                number=number)))
            continue
        member = f"data/originals/{original.name}"
        digest, size = store.hash_file(original)
        if digest != row["sha256"]:
            problems.append(Problem("hash_mismatch", member, _("expected {expected}, found {found}").format(
                expected=row["sha256"], found=digest)))
        elif size != row["size"]:
            problems.append(Problem("size_mismatch", member, _("expected {expected} bytes, found {found}").format(
                expected=row["size"], found=size)))
        else:
            originals[number] = original
    for number, path in sorted(found.items()):
        problems.append(Problem("original_unrecorded", f"data/originals/{path.name}",
                                _("an original no custody entry records (exhibit {number})").format(number=number)))
    return originals

