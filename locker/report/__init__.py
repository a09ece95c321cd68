"""The PDF evidence pack (reportlab, pypdf): fonts, labels, layout, pages of documents, attachments.

Takes a read-only :class:`~locker.report.snapshot.Snapshot` and never opens the
database. Entry point: :func:`locker.report.pack.build`. reportlab and pypdf
are imported inside the functions that use them, so importing this package is
cheap.
"""
