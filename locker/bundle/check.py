"""Check a bundle with no locker home: ``check_bundle(path) -> BundleReport``.

What is checked, every problem reported (each names the member it is about):

1. the ZIP: readable, one top folder (the bag), member names safe (no absolute paths, no ``..``), no
   duplicates, stored CRC-32s;
2. the bag (RFC 8493): bagit.txt, every payload file listed in ``manifest-sha256.txt`` with its SHA-256 and
   every listed file present, ``tagmanifest-sha256.txt``, the Payload-Oxum of bag-info.txt;
3. the custody log ``data/custody.jsonl``: one unbroken hash chain;
4. every original ``data/originals/NNN-…`` against the SHA-256 and size its ``exhibit.added`` entry recorded,
   and the pack ``data/pack.pdf`` against its ``export.created`` entry: its SHA-256, and its manifest
   fingerprint recomputed from the originals in the bundle;
5. every chat ``data/messages/NNN.json`` against the message digest the custody log recorded last;
6. every timestamp token (``data/timestamps/X.tsr`` with ``X.json``, and a token over the tag manifest)
   offline with :func:`locker.tsa.check`, against the SHA-256 it says it stamps, which must be something
   the bundle holds.
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .. import custody
from ..i18n import _
from .writer import BAG_INFO, MANIFEST, TAGMANIFEST

STAMP_NAME = "tagmanifest-sha256.txt"  # a token over the tag manifest is <slug>/tagmanifest-sha256.txt.tsr
_HEX64 = re.compile(r"^[0-9a-f]{64}$")
_ORIGINAL = re.compile(r"^data/originals/(\d{3,})-(.+)$")
_MESSAGES = re.compile(r"^data/messages/(\d{3,})\.json$")


@dataclass(frozen=True)
class BundleProblem:
    member: str | None  # the member inside the bag (data/pack.pdf, …), None for the ZIP as a whole
    problem: str  # a stable code: hash_mismatch, custody_link, token_mismatch, …
    detail: str
    exhibit: int | None = None
    severity: str = "error"


@dataclass(frozen=True)
class BundleReport:
    path: str
    slug: str | None  # the bag's name (its top folder)
    members: int
    originals_checked: int
    tokens_checked: int
    problems: tuple[BundleProblem, ...]
    token_methods: tuple[str, ...] = ()  # how each token was checked (rfc3161-client | openssl)

    @property
    def ok(self) -> bool:
        return not any(p.severity == "error" for p in self.problems)


@dataclass
class _State:
    problems: list[BundleProblem] = field(default_factory=list)
    digests: dict[str, tuple[str, int]] = field(default_factory=dict)  # bag path -> (sha256, size)
    small: dict[str, bytes] = field(default_factory=dict)  # bag path -> bytes (text members)

    def add(self, member: str | None, problem: str, detail: str, exhibit: int | None = None,
            severity: str = "error") -> None:
        self.problems.append(BundleProblem(member, problem, detail, exhibit, severity))


_SMALL = 64 << 20  # members read into memory for parsing (custody log, manifests, JSON, tokens)


def check_bundle(path: str | Path) -> BundleReport:
    """Every problem of the bundle at ``path`` (nothing is written anywhere)."""
    path = Path(path)
    st = _State()
    try:
        zf = zipfile.ZipFile(path)
    except FileNotFoundError:
        st.add(None, "bundle_missing", _("no such file"))
        return BundleReport(str(path), None, 0, 0, 0, tuple(st.problems))
    except (zipfile.BadZipFile, OSError, ValueError) as err:
        st.add(None, "not_a_zip", _("not a readable ZIP file: {reason}").format(reason=err))
        return BundleReport(str(path), None, 0, 0, 0, tuple(st.problems))
    with zf:
        slug = _read_members(zf, st)
        if slug is None:
            return BundleReport(str(path), None, len(zf.infolist()), 0, 0, tuple(st.problems))
        _check_bag(st)
        chain = _check_custody(st)
        originals = _check_originals(st, chain)
        _check_messages(st, chain)
        tokens, methods = _check_tokens(st, chain)
    return BundleReport(str(path), slug, len(st.digests), originals, tokens, tuple(st.problems), tuple(methods))


# --------------------------------------------------------------------------- the ZIP


def _read_members(zf: zipfile.ZipFile, st: _State) -> str | None:
    infos = [i for i in zf.infolist() if not i.is_dir()]
    tops = {i.filename.split("/", 1)[0] for i in zf.infolist()}
    if len(tops) != 1 or not infos:
        st.add(None, "bag_layout", _("a bundle holds one top folder (the bag); this one holds {count}").format(
            count=len(tops)))
        return None
    slug = next(iter(tops))
    seen: set[str] = set()
    for info in infos:
        name = info.filename
        rel = name.split("/", 1)[1] if "/" in name else ""
        parts = rel.split("/")
        if (name.startswith("/") or "\\" in name or ".." in parts or not rel or "" in parts
                or unicodedata.normalize("NFC", name) != name):
            st.add(rel or name, "unsafe_name", _("member name {name!r} is not a safe bag path").format(name=name))
            continue
        if rel in seen:
            st.add(rel, "duplicate_member", _("the ZIP holds this member more than once"))
            continue
        seen.add(rel)
        try:
            digest, size, crc = _hash_member(zf, info, rel, st)
        except (zipfile.BadZipFile, OSError, ValueError, NotImplementedError, zlib.error, EOFError) as err:
            st.add(rel, "member_unreadable", _("cannot be read from the ZIP: {reason}").format(reason=err))
            continue
        if crc != info.CRC:
            st.add(rel, "zip_crc_mismatch", _("its bytes do not match the CRC-32 the ZIP recorded for it"))
        st.digests[rel] = (digest, size)
    return slug


def _hash_member(zf: zipfile.ZipFile, info: zipfile.ZipInfo, rel: str, st: _State) -> tuple[str, int, int]:
    h = hashlib.sha256()
    crc = 0
    size = 0
    keep = info.file_size <= _SMALL and not rel.startswith("data/originals/") and rel != "data/pack.pdf"
    parts: list[bytes] = []
    with zf.open(info) as src:
        # The CRC is compared here, after the whole member was read and hashed, so that a damaged member is
        # reported by its SHA-256 too rather than cut short by zipfile's own CRC error.
        src._expected_crc = None  # type: ignore[attr-defined]
        while True:
            piece = src.read(1 << 20)
            if not piece:
                break
            h.update(piece)
            crc = zlib.crc32(piece, crc)
            size += len(piece)
            if keep:
                parts.append(piece)
    if keep:
        st.small[rel] = b"".join(parts)
    return h.hexdigest(), size, crc


# --------------------------------------------------------------------------- the bag


def _manifest(st: _State, name: str) -> dict[str, str] | None:
    raw = st.small.get(name)
    if raw is None:
        st.add(name, "manifest_missing", _("the bag has no {name}").format(name=name))
        return None
    found: dict[str, str] = {}
    for number, line in enumerate(raw.decode("utf-8", "replace").splitlines(), 1):
        if not line.strip():
            continue
        digest, _sep, where = line.partition(" ")
        where = where.lstrip(" ")
        if not _HEX64.match(digest) or not where:
            st.add(name, "manifest_malformed", _("line {line} is not \"SHA-256 path\"").format(line=number))
            continue
        where = where.replace("%0D", "\r").replace("%0A", "\n").replace("%0d", "\r").replace("%0a", "\n")
        where = where.replace("%25", "%")
        found[where] = digest
    return found


def _check_bag(st: _State) -> None:
    bagit = st.small.get("bagit.txt")
    if bagit is None:
        st.add("bagit.txt", "bagit_missing", _("the bag has no bagit.txt"))
    elif not re.search(rb"^BagIt-Version: 1\.0\r?$", bagit, re.M) or \
            not re.search(rb"^Tag-File-Character-Encoding: UTF-8\r?$", bagit, re.M):
        st.add("bagit.txt", "bagit_malformed", _("does not declare BagIt-Version 1.0 and UTF-8"))
    payload = _manifest(st, MANIFEST)
    if payload is not None:
        for where, digest in sorted(payload.items()):
            _compare(st, MANIFEST, where, digest)
        for rel in sorted(st.digests):
            if rel.startswith("data/") and rel not in payload:
                st.add(rel, "unlisted_payload", _("a payload file that {manifest} does not list").format(manifest=MANIFEST))
    tags = _manifest(st, TAGMANIFEST)
    if tags is not None:
        for where, digest in sorted(tags.items()):
            if where.startswith("data/"):
                st.add(TAGMANIFEST, "manifest_malformed", _("lists a payload file: {path}").format(path=where))
                continue
            _compare(st, TAGMANIFEST, where, digest)
        for rel in (MANIFEST, "bagit.txt", BAG_INFO):
            if rel in st.digests and rel not in tags:
                st.add(rel, "unlisted_tag_file", _("{manifest} does not list it").format(manifest=TAGMANIFEST))
    info = st.small.get(BAG_INFO)
    if info is not None:
        m = re.search(r"^Payload-Oxum:\s*(\d+)\.(\d+)\s*$", info.decode("utf-8", "replace"), re.M)
        octets = sum(size for rel, (_d, size) in st.digests.items() if rel.startswith("data/"))
        count = sum(1 for rel in st.digests if rel.startswith("data/"))
        if m is None:
            st.add(BAG_INFO, "bag_info_malformed", _("has no Payload-Oxum"))
        elif (int(m.group(1)), int(m.group(2))) != (octets, count):
            st.add(BAG_INFO, "payload_oxum_mismatch", _("Payload-Oxum says {said}, the payload is {found}").format(
                said=f"{m.group(1)}.{m.group(2)}", found=f"{octets}.{count}"))


def _compare(st: _State, manifest: str, where: str, digest: str) -> None:
    found = st.digests.get(where)
    if found is None:
        st.add(where, "member_missing", _("{manifest} lists it but the bundle does not hold it").format(manifest=manifest))
    elif found[0] != digest:
        st.add(where, "hash_mismatch", _("{manifest} says SHA-256 {expected}, its bytes hash to {found}").format(
            manifest=manifest, expected=digest, found=found[0]))


# --------------------------------------------------------------------------- the custody log


@dataclass(frozen=True)
class _Row:
    seq: Any
    v: Any
    at: Any
    actor: Any
    action: Any
    payload: str
    prev_hash: Any
    hash: Any
    decoded: Any


def _check_custody(st: _State) -> list[_Row]:
    raw = st.small.get("data/custody.jsonl")
    if raw is None:
        st.add("data/custody.jsonl", "custody_missing", _("the bundle holds no custody log"))
        return []
    rows: list[_Row] = []
    for number, line in enumerate(raw.decode("utf-8", "replace").splitlines(), 1):
        if not line.strip():
            continue
        try:
            doc = json.loads(line)
            if not isinstance(doc, dict):
                raise ValueError
            rows.append(_Row(doc.get("seq"), doc.get("v", custody.FORMAT_VERSION), doc.get("at"), doc.get("actor"),
                             doc.get("action"), custody.canonical(doc.get("payload")).decode("utf-8"),
                             doc.get("prev_hash"), doc.get("hash"), doc.get("payload")))
        except (ValueError, TypeError):
            st.add("data/custody.jsonl", "custody_entry_altered", _("line {line} is not a custody entry").format(line=number))
    if not rows:
        st.add("data/custody.jsonl", "custody_missing", _("the custody log is empty"))
        return rows
    try:
        found = custody.check_chain(rows)
    except (TypeError, ValueError, AttributeError) as err:
        st.add("data/custody.jsonl", "custody_entry_altered", str(err))
        return rows
    for p in found:
        st.add("data/custody.jsonl", p.problem, p.detail)
    return rows


def _readings(chain: list[_Row]) -> list[tuple[_Row, Any]]:
    from .. import domain

    out = []
    for row in chain:
        if isinstance(row.action, str):
            reading = domain.read_entry(row.action, row.decoded)
            if reading is not None:
                out.append((row, reading))
    return out


# --------------------------------------------------------------------------- originals and the pack


def _check_originals(st: _State, chain: list[_Row]) -> int:
    from .. import domain

    added: dict[int, Any] = {}
    export: Any = None
    for _row, reading in _readings(chain):
        if isinstance(reading, domain.ExhibitAdded) and reading.exhibit is not None:
            added[reading.exhibit] = reading
        elif isinstance(reading, domain.ExportCreated):
            export = reading
    found: dict[int, tuple[str, str]] = {}  # number -> (member, sha256)
    checked = 0
    for rel, (digest, size) in sorted(st.digests.items()):
        m = _ORIGINAL.match(rel)
        if not m:
            continue
        number = int(m.group(1))
        checked += 1
        found[number] = (rel, digest)
        record = added.get(number)
        if record is None:
            st.add(rel, "original_unrecorded", _("no custody entry records exhibit {number}").format(number=number),
                   exhibit=number)
            continue
        if record.sha256 != digest:
            st.add(rel, "original_mismatch", _("the custody log recorded SHA-256 {expected} for exhibit {number}, "
                                               "this file hashes to {found}").format(
                expected=record.sha256, number=number, found=digest), exhibit=number)
        elif record.size is not None and record.size != size:
            st.add(rel, "original_mismatch", _("the custody log recorded {expected} bytes, this file has {found}").format(
                expected=record.size, found=size), exhibit=number)
    pack = st.digests.get("data/pack.pdf")
    if pack is None:
        st.add("data/pack.pdf", "pack_missing", _("the bundle holds no evidence pack"))
        return checked
    if export is None:
        st.add("data/pack.pdf", "pack_unrecorded", _("no export.created entry in the custody log records a pack"))
        return checked
    if export.sha256 != pack[0]:
        st.add("data/pack.pdf", "pack_mismatch", _("the custody log's last export recorded SHA-256 {expected}, the pack "
                                                   "hashes to {found}").format(expected=export.sha256, found=pack[0]))
    numbers = sorted(export.exhibits or ())
    for n in numbers:
        if n not in found:
            st.add(None, "original_missing", _("the pack shows exhibit {number} but its original is not in the "
                                               "bundle").format(number=n), exhibit=n)
    if numbers and all(n in found for n in numbers):
        text = "".join(f"{n} {found[n][1]}\n" for n in numbers)
        fingerprint = hashlib.sha256(text.encode("utf-8")).hexdigest()
        if fingerprint != export.fingerprint:
            bad = [n for n in numbers if added.get(n) is not None and added[n].sha256 != found[n][1]]
            st.add("data/pack.pdf", "pack_manifest_mismatch",
                   _("the pack's fingerprint {expected} does not match the originals in the bundle ({found}); "
                     "differing: {exhibits}").format(expected=export.fingerprint, found=fingerprint,
                                                     exhibits=", ".join(str(n) for n in bad) or "?"))
    return checked


# --------------------------------------------------------------------------- chats


def _message_line(m: dict[str, Any]) -> str:
    row = [int(m.get("position", 0)), m.get("at"), m.get("sender"), m.get("text"), bool(m.get("me", False)),
           m.get("kind", "message")]
    return json.dumps(row, ensure_ascii=False, separators=(",", ":")) + "\n"


def _check_messages(st: _State, chain: list[_Row]) -> None:
    recorded: dict[int, Any] = {}
    for _row, reading in _readings(chain):
        number = getattr(reading, "exhibit", None)
        if isinstance(number, int) and hasattr(reading, "messages"):
            digest = reading.messages
            if digest is not None or type(reading).__name__ == "ExhibitTranscribed":
                recorded[number] = digest
    for rel in sorted(st.digests):
        m = _MESSAGES.match(rel)
        if not m:
            continue
        number = int(m.group(1))
        try:
            doc = json.loads(st.small[rel])
            messages = doc["messages"]
            h = hashlib.sha256()
            for message in messages:
                h.update(_message_line(message).encode("utf-8"))
        except (KeyError, ValueError, TypeError, AttributeError):
            st.add(rel, "messages_malformed", _("not a chat document (schemas/chat.schema.json)"), exhibit=number)
            continue
        digest = recorded.get(number)
        if digest is None:
            st.add(rel, "messages_unrecorded", _("no custody entry records messages of exhibit {number}").format(
                number=number), exhibit=number)
        elif (digest.count, digest.sha256) != (len(messages), h.hexdigest()):
            st.add(rel, "messages_mismatch", _("{found} messages here do not match the {recorded} the custody log "
                                               "recorded").format(found=len(messages), recorded=digest.count),
                   exhibit=number)


# --------------------------------------------------------------------------- timestamp tokens


def _check_tokens(st: _State, chain: list[_Row]) -> tuple[int, list[str]]:
    tokens = sorted(rel for rel in st.digests if rel.endswith(".tsr"))
    if not tokens:
        return 0, []
    try:
        from .. import tsa
    except ImportError:
        for rel in tokens:
            st.add(rel, "token_unchecked", _("this locker cannot check timestamp tokens"))
        return 0, []
    from .. import domain

    # What a token may stamp: a custody entry's hash (locker stamp: the head), a pack's fingerprint or SHA-256
    # (export --stamp), a file in the bundle.
    known = {str(r.hash) for r in chain} | {d for d, _s in st.digests.values()}
    for _row, reading in _readings(chain):
        if isinstance(reading, domain.ExportCreated):
            known |= {x for x in (reading.fingerprint, reading.sha256) if x}
    methods: list[str] = []
    checked = 0
    for rel in tokens:
        raw = _token_bytes(st, rel)
        if rel == f"{STAMP_NAME}.tsr":
            subject_sha = st.digests.get(TAGMANIFEST, ("", 0))[0]
        else:
            described = st.small.get(rel[: -len(".tsr")] + ".json")
            try:
                doc = json.loads(described or b"")
                subject_sha = str(doc["sha256"])
            except (ValueError, KeyError, TypeError):
                st.add(rel, "token_undescribed", _("no {name} says what this token stamps").format(
                    name=rel[: -len(".tsr")] + ".json"))
                continue
            if subject_sha not in known:
                # e.g. the tag manifest of an earlier bundle: the token is checked, but what it stamps is not here
                st.add(rel, "token_subject_elsewhere", _("it stamps SHA-256 {sha} ({subject}), which is not in this "
                                                         "bundle").format(sha=subject_sha, subject=doc.get("subject")),
                       severity="warning")
        if raw is None:
            continue
        checked += 1
        result = tsa.check(raw, subject_sha)
        methods.append(f"{rel}: {result.method}")
        if not result.ok:
            st.add(rel, "token_mismatch", _("the token does not verify for SHA-256 {sha}: {reason}").format(
                sha=subject_sha, reason=result.problem or "?"))
    return checked, methods


def _token_bytes(st: _State, rel: str) -> bytes | None:
    raw = st.small.get(rel)
    if raw is None:
        st.add(rel, "member_unreadable", _("too large to be a timestamp token"))
    return raw
