"""How a request's bytes come off the socket: uvicorn's HTTP protocol (httptools, the web extra),
fed by the event loop straight into one buffer per connection (:class:`Reader`), keeping a body
as the pieces it was read in (:class:`Pieces`), in a process whose allocator keeps the memory
those pieces are freed to (:func:`keep_freed_memory`).

Every byte of every upload goes through the event loop's one thread, which shares the
interpreter with the threads that parse, hash and write them (web/uploads.py): the less it does
per byte, the more of the second core those threads get. Measured on the 200 phone files of
benchmarks/bench_serve.py (626 MiB in two requests at a time), the event loop's CPU time went
from 0.47-0.58 s to 0.27-0.31 s with all three; what each one bought is in its docstring.
"""

from __future__ import annotations

import asyncio
from typing import Any

READ = 1024 * 1024  # bytes read from the socket at a time (uvloop's own buffer: 256 KB)


def http_protocol() -> Any:
    """What uvicorn.Config takes as ``http``: the :class:`Reader` around uvicorn's httptools
    protocol; without httptools, uvicorn's choice (h11, as it is)."""
    try:
        from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
    except ImportError:
        return "auto"

    class Parser(HttpToolsProtocol):
        def on_body(self, body: bytes) -> None:
            cycle = self.cycle
            if type(cycle.body) is bytearray and not cycle.body:  # a new request, or all taken by the app
                cycle.body = Pieces()  # type: ignore[assignment]  # what it does with it, Pieces does
            super().on_body(body)

    class Protocol(Reader):
        parser = Parser

    return Protocol


class Reader(asyncio.BufferedProtocol):
    """One connection: the event loop reads the socket into this connection's buffer of READ
    bytes, which the parser (uvicorn's protocol, made as uvicorn makes it) is fed from.

    Given a plain protocol, the event loop reads 256 KB at a time into a buffer of its own and
    copies each read into a new bytes object; the parser then copies the body out of it again.
    Here the loop reads into the buffer, which is used again for the next read once the parser
    has copied what it keeps: one copy less per byte, and a quarter of the reads, each a round of
    Python in the event loop. Measured (200 files, benchmarks/bench_serve.py's set, three runs
    each, in turns): the event loop's CPU time 0.27-0.31 s against 0.42-0.53 s.
    """

    parser: Any = None  # the class of uvicorn's protocol (http_protocol)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.inner = self.parser(*args, **kwargs)
        self.view = memoryview(bytearray(READ))

    def connection_made(self, transport: Any) -> None:
        self.inner.connection_made(transport)

    def connection_lost(self, exc: Exception | None) -> None:
        self.inner.connection_lost(exc)

    def eof_received(self) -> bool | None:
        return self.inner.eof_received()  # type: ignore[no-any-return]

    def pause_writing(self) -> None:
        self.inner.pause_writing()

    def resume_writing(self) -> None:
        self.inner.resume_writing()

    def get_buffer(self, sizehint: int) -> memoryview:
        return self.view

    def buffer_updated(self, nbytes: int) -> None:
        with self.view[:nbytes] as data:  # the parser keeps copies only: the buffer is free again after
            self.inner.data_received(data)


class Pieces:
    """What uvicorn's protocol keeps of a request body until the application takes it, in place
    of its bytearray: ``+=`` appends a piece as it was read, ``len`` counts the bytes (for its flow
    control), ``bytes`` hands them over, the one piece itself when there is one.

    The bytearray copied each piece twice in the event loop, in and out again (memmove was 11 %
    of the server's samples under ``perf``). Measured with benchmarks/bench_serve.py, 200 files,
    the same session, before :class:`Reader`: 1.45x ``locker add`` with Pieces against 1.50x
    without (keep_freed_memory off in both)."""

    __slots__ = ("pieces", "size")

    def __init__(self) -> None:
        self.pieces: list[bytes] = []
        self.size = 0

    def __iadd__(self, piece: bytes) -> Pieces:
        self.pieces.append(piece)
        self.size += len(piece)
        return self

    def __len__(self) -> int:
        return self.size

    def __bytes__(self) -> bytes:
        return self.pieces[0] if len(self.pieces) == 1 else b"".join(self.pieces)


MMAP_THRESHOLD = 8 << 20  # blocks under this come from the heap (glibc: 128 KiB, rising with what is freed)
TRIM_THRESHOLD = 64 << 20  # free heap kept for the next pieces (glibc: twice the above)
TOP_PAD = 16 << 20  # the heap grows by at least this much at a time


def keep_freed_memory() -> bool:
    """Let the C allocator keep the memory an upload's pieces are freed to, instead of handing
    it back to the system after each and faulting fresh pages in for the next; True once set.

    A body's pieces are allocated in the event loop and freed once written, a 1 MiB join in
    between. glibc gives a freed heap top back above its trim threshold (twice the largest block
    freed so far), so each piece landed on pages the process had just returned, and on this
    project's VM a fresh page costs a fault in the guest and one in the host. Measured by
    receiving 626 MiB in two requests through uvicorn and dropping the bytes: 0.75 CPU-s and
    0.76 s, and with thresholds of 32 MiB, 256 MiB and 64 MiB 0.27 CPU-s and 0.33 s. In the
    server, 200 files (bench_serve.py, one run of five each): 1.47x ``locker add`` against 1.50x
    without, and with :class:`Pieces` too 1.46x (1.33x in the short bench, ``--big-mib 1
    --page-exhibits 10``). Thresholds of 4, 32 and 8 MiB did as well in a harness of three runs
    (1.41x against 1.47x); the values here lie between the two sets, all with peak RSS 110-140
    MB (benchmarks/README.md has the full runs with them). (Linux with glibc; elsewhere nothing
    is changed.)"""
    import sys

    if not sys.platform.startswith("linux"):
        return False
    import ctypes

    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):  # not glibc: musl has no mallopt
        return False
    m_trim_threshold, m_top_pad, m_mmap_threshold = -1, -2, -3  # malloc.h
    wanted = ((m_mmap_threshold, MMAP_THRESHOLD), (m_trim_threshold, TRIM_THRESHOLD), (m_top_pad, TOP_PAD))
    return all(mallopt(option, value) == 1 for option, value in wanted)
