"""The chain: canonical form pinned, and any single edit found."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, replace

import jsonschema
from hypothesis import given, settings
from hypothesis import strategies as st

from locker import custody
from tests.test_contract import schema


@dataclass(frozen=True)
class Row:
    seq: int
    v: int
    at: str
    actor: str
    action: str
    payload: str
    prev_hash: str
    hash: str


def build_chain(payloads: list[dict]) -> list[Row]:
    rows, prev = [], custody.GENESIS
    for seq, payload in enumerate(payloads, 1):
        doc = custody.entry_document(seq, "2025-05-03T06:00:00+00:00", "tester", "exhibit.added", payload, prev)
        digest = custody.entry_hash(doc)
        rows.append(Row(seq, 1, doc["at"], doc["actor"], doc["action"],
                        custody.canonical(payload).decode(), prev, digest))
        prev = digest
    return rows


def test_canonical_form_is_pinned() -> None:
    doc = custody.entry_document(1, "2025-05-03T06:00:00+00:00", "me", "exhibit.added",
                                 {"exhibit": 1, "name": "微信图片.jpg"}, custody.GENESIS)
    text = custody.canonical(doc).decode()
    assert text == ('{"action":"exhibit.added","actor":"me","at":"2025-05-03T06:00:00+00:00",'
                    '"payload":{"exhibit":1,"name":"微信图片.jpg"},"prev_hash":"' + "0" * 64 + '","seq":1,"v":1}')
    assert custody.entry_hash(doc) == hashlib.sha256(text.encode()).hexdigest()
    jsonschema.validate(doc, schema("custody-entry"))


def test_intact_chain_has_no_problems() -> None:
    assert custody.check_chain(build_chain([{"n": i} for i in range(5)])) == []


def _edit(rows: list[Row], index: int, how: str) -> list[Row]:
    rows = list(rows)
    row = rows[index]
    if how == "payload":
        payload = json.loads(row.payload)
        payload["n"] = payload["n"] + 1000
        rows[index] = replace(row, payload=json.dumps(payload))
    elif how == "at":
        rows[index] = replace(row, at="2020-01-01T00:00:00+00:00")
    elif how == "action":
        rows[index] = replace(row, action="exhibit.withdrawn")
    elif how == "hash":
        rows[index] = replace(row, hash="f" * 64)
    elif how == "delete":
        del rows[index]
    elif how == "insert":
        rows.insert(index, replace(row))
    elif how == "swap" and index + 1 < len(rows):
        rows[index], rows[index + 1] = rows[index + 1], rows[index]
    elif how == "swap":
        rows[index - 1], rows[index] = rows[index], rows[index - 1]
    return rows


@settings(max_examples=300, deadline=None)
@given(st.integers(min_value=2, max_value=12), st.data())
def test_any_single_edit_is_found(n: int, data: st.DataObject) -> None:
    rows = build_chain([{"n": i} for i in range(n)])
    index = data.draw(st.integers(min_value=0, max_value=n - 1))
    how = data.draw(st.sampled_from(["payload", "at", "action", "hash", "delete", "insert", "swap"]))
    if how == "delete" and index == n - 1:
        index = n - 2  # dropping the newest entry is not visible from the chain alone (see README)
    problems = custody.check_chain(_edit(rows, index, how))
    assert problems, f"{how} at {index} went unnoticed"
