"""The check export makes of what it packs: every exhibit's stored object is re-hashed (streamed, on a
few threads, beside the layout) and must have its recorded SHA-256. A damaged or missing original
refuses the export (DamagedOriginal), or with ``--allow-damaged`` has the pack made again with those
exhibits stamped FAILED VERIFICATION."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .. import store
from ..errors import DamagedOriginal
from ..i18n import _
from ..paths import DisputeDir


@dataclass(frozen=True)
class Check:
    """What re-hashing an exhibit's object found: ``ok``, ``damaged`` (other bytes) or ``missing``."""

    state: str
    found: str | None = None  # the SHA-256 of the bytes there now (damaged)
    reason: str | None = None  # missing or unreadable: why


def check_one(ddir: DisputeDir, sha256: str) -> Check:
    """Re-hash the object recorded as ``sha256``."""
    path = ddir.object_path(sha256)
    try:
        digest, _size = store.hash_file(path)
    except FileNotFoundError:
        return Check("missing", reason="missing")
    except OSError as err:
        return Check("missing", reason=err.strerror or str(err))
    return Check("ok" if digest == sha256 else "damaged", found=digest)


# From this many bytes an export checks its originals in a process of its own (see Forked).
FORK_MIN_BYTES = 32 * 1024 * 1024


class Forked:
    """The check in a forked process, its results a Future (``future``).

    Beside the first pass of an export, which lays the pack out in Python on the main thread, hashing
    threads wait for the interpreter lock after every read and every hashed MiB: the check of 200
    originals (385 MB), 0.13-0.15 s alone, took 0.9-1.7 s beside a busy main thread, with the switch
    interval at 0.5 ms as well, so it ended after the pass and no rendition could start early (see
    report.images.Early). A process has no such lock to share. Linux only (fork); should the process
    end without an answer, the check is made on this thread of the waiting side instead."""

    def __init__(self, ddir: DisputeDir, pairs: list[tuple[int, str]]) -> None:
        import multiprocessing
        import threading
        from concurrent.futures import Future

        from ..report.images import sigint_held

        self.ddir, self.pairs = ddir, pairs
        self.future: Future[dict[int, Check]] = Future()
        self.future.set_running_or_notify_cancel()
        context = multiprocessing.get_context("fork")
        self._recv, send = context.Pipe(duplex=False)
        self._proc = context.Process(target=_forked_check, args=(ddir, pairs, send), daemon=True,
                                     name="locker-export-check")
        try:
            with sigint_held():  # the child ignores it first (report.images.exit_with_parent)
                self._proc.start()
        finally:
            send.close()
        threading.Thread(target=self._wait, name="locker-export-check-wait", daemon=True).start()

    def _wait(self) -> None:
        try:
            try:
                found = self._recv.recv()
            except (EOFError, OSError):  # it ended without an answer (killed, out of memory)
                found = {number: check_one(self.ddir, sha) for number, sha in self.pairs}
            self.future.set_result(found)
        except BaseException as exc:
            self.future.set_exception(exc)
        finally:
            self._recv.close()
            self._proc.join()

    def stop(self) -> None:
        if self._proc.is_alive():
            self._proc.kill()


def _forked_check(ddir: DisputeDir, pairs: list[tuple[int, str]], send: Any) -> None:
    """In the forked process: the checks, sent back; it ends at once, running none of the parent's exit
    handlers, and prints nothing (another thread of the parent may have held the output's lock). As the
    rendition workers do, it leaves Ctrl-C to the export and ends as soon as the export is gone."""
    import os

    from ..report.images import exit_with_parent

    exit_with_parent()
    code = 1
    try:
        send.send({number: check_one(ddir, sha) for number, sha in pairs})
        send.close()
        code = 0
    finally:
        os._exit(code)


def check_objects(ddir: DisputeDir, exhibits: list[Any], workers: int = 2) -> dict[int, Check]:
    """Re-hash every exhibit's stored object, streamed (memory flat in its size), on a few threads
    (hashlib and file reads release the GIL). Each object is read once here."""
    checker = Checker(ddir, exhibits, workers)
    try:
        return checker.result()
    finally:
        checker.stop()


class Damaged(Exception):
    """The check found damage while a pack was being made with --allow-damaged: make it again knowing."""

    def __init__(self, checks: dict[int, Check]) -> None:
        super().__init__("damaged originals")
        self.checks = checks


class Checker:
    """The re-hash of the exhibits' objects, on daemon threads (a Ctrl-C does not wait for them).

    ``known``: the result of an earlier check (the pack is made again knowing it): nothing is hashed.
    :meth:`ensure` waits for the result; when an object failed it raises DamagedOriginal (the refusal), or
    with ``allow_damaged`` :class:`Damaged` so that the pack is made again with those exhibits stamped."""

    def __init__(self, ddir: DisputeDir, exhibits: list[Any], workers: int, *,
                 known: dict[int, Check] | None = None, allow_damaged: bool = False, source: Any = None,
                 fork: bool = False) -> None:
        import sys
        import threading

        self.exhibits = exhibits
        self.known = known
        self.allow_damaged = allow_damaged
        self._results: dict[int, Check] = dict(known or {})
        self._error: BaseException | None = None
        self._done = threading.Event()
        self._stop = False
        self._source = source  # a Future of the checks, made by the caller (bundle): nothing hashed here
        self._forked: Forked | None = None
        if (fork and known is None and source is None and sys.platform.startswith("linux")
                and sum(e.size for e in exhibits) >= FORK_MIN_BYTES):
            try:
                self._forked = Forked(ddir, [(e.number, e.sha256) for e in exhibits])
            except OSError:  # no process can be started: threads, below
                self._forked = None
            else:
                self._source = self._forked.future
        if known is not None or not exhibits or self._source is not None:
            self._done.set()
            return
        todo = list(reversed(exhibits))
        lock = threading.Lock()
        left = [min(max(1, workers), len(exhibits))]

        def work() -> None:
            try:
                while not self._stop:
                    with lock:
                        if not todo:
                            break
                        e = todo.pop()
                    self._results[e.number] = check_one(ddir, e.sha256)
            except BaseException as exc:  # handed to the thread that waits
                self._error = exc
            finally:
                with lock:
                    left[0] -= 1
                    if left[0] == 0:
                        self._done.set()

        for i in range(left[0]):
            threading.Thread(target=work, name=f"locker-export-check-{i}", daemon=True).start()

    def result(self) -> dict[int, Check]:
        if self._source is not None:
            return dict(self._source.result())
        self._done.wait()
        if self._error is not None:
            raise self._error
        return self._results

    def ensure(self) -> None:
        """Return once every object has its recorded hash (or the pack already knows which have not)."""
        if self.known is not None:
            return
        checks = self.result()
        if _whole(checks):
            return
        if self.allow_damaged:
            raise Damaged(checks)
        raise DamagedOriginal(refusal(self.exhibits, checks))

    def passed(self) -> bool:
        """Has the check ended with every object whole (what :meth:`ensure` waits for), without waiting?
        Until it has, nothing is made from an original early (report.images.Early)."""
        if self.known is not None:
            return True
        ended = self._source.done() if self._source is not None else self._done.is_set()
        if not ended:
            return False
        try:
            checks = self.result()
        except Exception:  # not a Ctrl-C: that one is the export's to stop on, here as anywhere
            return False  # ensure() raises it where the pack is made
        return _whole(checks)

    def state(self, number: int) -> Check:
        """What is known of an exhibit now: the check's result, or ``ok`` while it runs (the pack is not
        kept, nor anything cached from it, before :meth:`ensure` has passed)."""
        if self.known is not None:
            return self.known.get(number, Check("ok"))
        return Check("ok")

    def stop(self) -> None:
        self._stop = True
        if self._forked is not None:
            self._forked.stop()


def _whole(checks: dict[int, Check]) -> bool:
    return all(c.state == "ok" for c in checks.values())


def refusal(exhibits: list[Any], checks: dict[int, Check]) -> str:
    parts = []
    for e in exhibits:
        c = checks.get(e.number)
        if c is None or c.state == "ok":
            continue
        if c.state == "damaged":
            parts.append(_("exhibit {number} ({name}): its bytes differ from the recorded SHA-256 {recorded}… "
                           "(now {found}…)").format(number=e.number, name=e.original_name, recorded=e.sha256[:12],
                                                    found=str(c.found)[:12]))
        elif c.reason == "missing":
            parts.append(_("exhibit {number} ({name}): its original is missing from the locker").format(
                number=e.number, name=e.original_name))
        else:
            parts.append(_("exhibit {number} ({name}): its original cannot be read ({reason})").format(
                number=e.number, name=e.original_name, reason=c.reason))
    return _("export refused, the pack would show originals that fail their check: {problems} (locker verify says "
             "more; --allow-damaged writes the pack with them stamped FAILED VERIFICATION)").format(
        problems="; ".join(parts))


def damage_warnings(snap: Any) -> list[str]:
    return [f"exhibit {e.number} ({e.original_name}): FAILED VERIFICATION: "
            + (f"its bytes now hash to {e.found_sha256}, not the recorded {e.sha256}" if e.check == "damaged"
               else "its original is missing or unreadable") + "; the pack says so on its pages"
            for e in snap.exhibits if e.check != "ok"]
