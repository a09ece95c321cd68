"""The evidence bundle (issue 13): one ZIP holding a BagIt 1.0 bag (RFC 8493) of a dispute's originals,
its pack, its custody log, its chats and its timestamp tokens, that anybody can check without locker.

Layout (``<slug>/`` is the bag)::

    <slug>/bagit.txt  bag-info.txt  manifest-sha256.txt  tagmanifest-sha256.txt
    <slug>/VERIFY.txt  VERIFY.zh.txt  schemas/custody-entry.schema.json  schemas/chat.schema.json
    <slug>/data/originals/NNN-<safe original name>
    <slug>/data/pack.pdf
    <slug>/data/custody.jsonl
    <slug>/data/dispute.json
    <slug>/data/messages/NNN.json
    <slug>/data/timestamps/<name>.tsr + <name>.json

:mod:`.writer` writes one (streamed: memory stays flat in the bundle's size), :mod:`.check` checks one
(``check_bundle(path)``: every problem, each naming its member). ``importing`` and ``safezip`` belong to
``locker import``.
"""
