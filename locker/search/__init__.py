"""Full-text search, per dispute and across disputes.

* :mod:`.text` — folding, the tokens given to FTS5, queries, matching, snippets (pure functions);
* :mod:`.index` — each dispute's own index in its ``dispute.sqlite``, written with every change;
* :mod:`.catalog` — the cross-dispute catalog in the home, a cache kept fresh before each search;
* :mod:`.pdftext` — the text layer of PDF exhibits (pypdf).

The use cases (``locker search``, ``locker reindex``) are in :mod:`locker.services.search`.
"""
