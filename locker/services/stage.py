"""The second step of ``locker add``: one file copied into ``objects/`` while it is hashed, then
probed for its type, time and metadata, and read as a chat when it is one."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from .. import store, warncodes
from ..errors import InputRefused
from ..values import clean_text
from ..words import PDF_MIME
from .collect import Candidate


@dataclass(frozen=True)
class AddOptions:
    kind: str | None = None
    title: str | None = None
    source: str | None = None
    purpose: str | None = None
    note: str | None = None
    captured_at: str | None = None  # as typed by the user
    me: str | None = None
    tz: str | None = None
    chat_format: str | None = None
    date_order: str | None = None  # "dmy", "mdy" or "ymd": a chat's day/month order (else the profile's)
    profile_date_order: str | None = None  # filled in by add() from the profile
    channel: Any = None  # a domain.Channel when the file came another way than the command line (the web app)


class Progress(Protocol):
    def start(self, files: int, total_bytes: int) -> None: ...
    def advance(self, nbytes: int, name: str) -> None: ...


@dataclass
class StagedFile:
    """One file on its way in: its temp copy (None once refused) and what was read from it."""

    candidate: Candidate
    staged: store.Staged | None = None
    probe: Any = None
    chat: Any = None  # a chat.ChatImport for chat exports
    pages: tuple[str, ...] = ()  # the text layer of a PDF, for search
    warnings: tuple[str, ...] = ()
    error: str | None = None
    reported: int = 0  # bytes already shown on the progress bar while it was copied


def stage_one(candidate: Candidate, objects: Path, tz: Any, options: AddOptions,
              progress: Progress | None = None) -> StagedFile:
    """Copy and hash one file into a temp file under ``objects``, then read what it is. A file
    that cannot be read comes back with ``error`` set and nothing left on disk."""
    shown = [0]

    def advance(nbytes: int) -> None:  # a large file moves the bar while it is copied
        shown[0] += nbytes
        if progress is not None:
            progress.advance(nbytes, candidate.path.name)

    try:
        staged = store.stage(candidate.path, objects, sync=False, on_progress=advance)
    except InputRefused as err:
        return StagedFile(candidate, error=err.message, reported=shown[0])
    return read_staged(candidate, staged, tz, options, reported=shown[0])


def read_staged(candidate: Candidate, staged: store.Staged, tz: Any, options: AddOptions,
                reported: int = 0) -> StagedFile:
    """Read what a copied file is (``stage_one``'s second half; the web app's upload arrives
    already copied, see services.upload). A file that cannot be read comes back with ``error``
    set and its copy removed."""
    from .. import media

    try:
        found = media.probe(staged.tmp, clean_text(candidate.path.name), tz)
        found, body = _email(staged.tmp, found, candidate.path.name)
        warnings = _read_warnings(candidate, staged) + tuple(found.warnings)
        item = StagedFile(candidate, staged=staged, probe=found, warnings=warnings, reported=reported)
        if body:
            item.pages = (body,)  # searchable like a PDF's text
        if found.mime == PDF_MIME:
            from ..search import index as search_index

            item.pages = search_index.pdf_pages(staged.tmp)
        forced = options.kind == "chat" or options.chat_format is not None
        if forced or (found.kind == "chat" and options.kind is None):
            _read_chat(item, tz, options)
        elif found.kind != "chat":
            item.warnings += _chat_like_warning(staged.tmp, found.mime)
    except BaseException:
        store.discard(staged)
        raise
    if item.error is not None:
        store.discard(staged)
        item.staged = None
    return item


def _email(path: Path, found: Any, name: str) -> tuple[Any, str]:
    """An e-mail (``.eml``) as a ``document``: its Date (with its zone) is the capture time, source
    ``email``; From/To/Subject and the attachments go to the metadata; returns its text body too."""
    from ..media.email import looks_like_email, read_email

    if not looks_like_email(path, found.mime, name):
        return found, ""
    mail = read_email(path)
    metadata = {**found.metadata, **mail.metadata}
    captured_at, source = found.captured_at, found.captured_at_source
    if mail.captured_at is not None:
        captured_at, source = mail.captured_at.isoformat(timespec="seconds"), "email"
        metadata.pop("captured_at_offset_assumed", None)
        metadata.pop("captured_at_tz", None)
    found = dataclasses.replace(found, kind="document", captured_at=captured_at, captured_at_source=source,
                                metadata=metadata, warnings=tuple(found.warnings) + tuple(mail.warnings))
    return found, mail.body


def _chat_like_warning(path: Path, mime: str) -> tuple[str, ...]:
    """A text file whose lines start like chat messages but that no chat format reads: say so."""
    from ..chats import FORMATS, chat_like

    found = chat_like(path, mime)
    if found is None:
        return ()
    return (warncodes.make("chat.looks_like", count=found[0], total=found[1],
                           command="locker reread DISPUTE N --chat-format FORMAT", formats=", ".join(FORMATS)),)


def _read_warnings(candidate: Candidate, staged: store.Staged) -> tuple[str, ...]:
    """What the user should know about how the file was read, before what it holds."""
    warnings: list[str] = []
    if candidate.symlink_target is not None:
        # The path itself stays in the metadata: a warning is printed in the pack, a local path need not be.
        warnings.append(warncodes.make("read.symlink"))
    if staged.changed:
        warnings.append(warncodes.make("read.changed", size=staged.size))
    return tuple(warnings)


def _read_chat(item: StagedFile, tz: Any, options: AddOptions) -> None:
    from ..chats import ChatError
    from . import chat

    assert item.staged is not None
    try:
        item.chat = chat.read(item.staged.tmp, tz=tz, me=options.me, fmt=options.chat_format,
                              date_order=options.date_order or options.profile_date_order,
                              date_order_source="option" if options.date_order else "profile")
    except ChatError as err:
        item.warnings += (warncodes.make("chat.unreadable", reason=warncodes.parse(err.message)),)
    else:
        item.warnings += item.chat.warnings
