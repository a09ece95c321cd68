"""The cross-dispute catalog: every dispute's searchable rows in one FTS5 index, as a cache.

Where: ``$LOCKER_HOME/search/catalog-<generation>.sqlite``, the file named in
``$LOCKER_HOME/search/CURRENT``. It is never the only copy of anything: each
row is copied from a dispute's own ``dispute.sqlite`` and the whole file can
be thrown away (``locker reindex`` builds a new one beside it and switches
``CURRENT`` in one rename, so searches never wait for a rebuild; a missing,
damaged or outdated catalog is replaced the same way on the next search).

**Never stale.** Before each search the catalog compares, for every dispute
folder, a stamp of its database files — inode, size, mtime and ctime of
``dispute.sqlite`` and ``dispute.sqlite-wal`` — with the stamp it recorded
when it last copied that dispute. Every commit writes one of those files, so
a commit by any process (a locker of any version, a tool, a copy or restore
of the folder) changes the stamp; only changed disputes are opened again, and
only their new rows are copied (they are append-only; the custody chain head,
the index generation and the dispute's id tell an incremental copy from one
that must start over, as for a folder replaced by another). With 1,000
disputes the check is one directory listing and 2,000 ``stat`` calls.

A stamp is recorded only for what was read after it was taken, so the catalog
holds at least every commit made before its stamp. A file's timestamps are
coarse (a few ms on Linux, 2 s on FAT), so a commit landing in the same tick
as the stamp could leave it unchanged: like git's "racy" index entries, a
stamp whose newest time is within ``RACY_NS`` of when it was taken is not
trusted, and the next search looks inside the database (custody head and
index marks, a fraction of a millisecond) until the stamp has aged.

Crash windows: the per-dispute index is written in the same transaction as
the change, and the catalog copies in one transaction of its own, recording
the stamp in it. A writer killed at any point either committed (the stamp
moved) or did not (nothing to see); a search killed while copying leaves the
catalog as it was, with the old stamp, and the next search copies again.
"""

from __future__ import annotations

from .catalog_files import CATALOG_VERSION, current_path, folder, open_catalog
from .catalog_query import Filters, Found, query, query_dispute
from .catalog_rebuild import rebuild
from .catalog_sync import RACY_NS, Known, Refreshed, on_disk, refresh, stamp, sync

__all__ = ["CATALOG_VERSION", "RACY_NS", "Filters", "Found", "Known", "Refreshed", "current_path", "folder",
           "on_disk", "open_catalog", "query", "query_dispute", "rebuild", "refresh", "stamp", "sync"]
