"""The vocabulary's custody actions: each builder's payload reads back as the same facts, and a
reading never trusts what it reads (a hand-edited entry reads as None where it is not what
locker writes, and never raises)."""

from __future__ import annotations

import json

import pytest

from locker import domain

ROW = {"number": 3, "sha256": "ab" * 32, "size": 120, "mime": "image/png", "kind": "screenshot",
       "original_name": "s1.png", "title": None, "source": "微信", "purpose": None, "note": None,
       "captured_at": "2025-05-03T14:22:10+08:00", "captured_at_source": "exif",
       "ingested_at": "2025-05-04T01:00:00Z", "metadata": "{}", "warnings": "[]"}


def _through_json(entry: domain.Entry) -> domain.Reading | None:
    """As verify and the log read it: the payload stored as JSON text, then decoded and read."""
    action, payload = entry
    return domain.read_entry(action, json.loads(json.dumps(payload)))


def test_every_action_has_one_reader() -> None:
    for action in domain.ACTIONS:
        assert domain.read_entry(action, {}) is not None, action
    assert domain.read_entry("exhibit.forged", {"exhibit": 1}) is None


def test_exhibit_added_round_trip() -> None:
    entry = domain.exhibit_added(ROW, domain.MessagesDigest(2, "cd" * 32))
    assert entry[0] == "exhibit.added"
    assert set(entry[1]) == {"exhibit", "messages", *domain.EXHIBIT_FIELDS} - {"number"}
    reading = _through_json(entry)
    assert isinstance(reading, domain.ExhibitAdded)
    assert all(reading.recorded(k) == ROW[k] for k in domain.EXHIBIT_FIELDS)
    assert reading.messages == domain.MessagesDigest(2, "cd" * 32)
    assert "messages" not in domain.exhibit_added(ROW)[1]


def test_the_other_actions_round_trip() -> None:
    facts = {k: f"value of {k}" for k in domain.DISPUTE_RECORDED}
    created = _through_json(domain.dispute_created(facts))
    assert isinstance(created, domain.DisputeCreated) and dict(created.facts) == facts
    assert _through_json(domain.dispute_status("open", "appealed", None)) == domain.StatusChanged("open", "appealed", None)
    assert domain.dispute_status("open", "appealed", "x")[1] == {"from": "open", "to": "appealed", "note": "x"}
    event = _through_json(domain.event_added(7, "2025-05-03T15:21:00+08:00", "refusal", "拒绝退款", [1, 2]))
    assert event == domain.EventAdded(7, "2025-05-03T15:21:00+08:00", "refusal", "拒绝退款", (1, 2))
    assert _through_json(domain.exhibit_withdrawn(2, "duplicate")) == domain.ExhibitWithdrawn(2, "duplicate")
    reread = _through_json(domain.exhibit_reread(
        4, captured_at=None, captured_at_source=None, chat_format="whatsapp", date_order="dmy",
        date_order_source="option", tz="Asia/Shanghai", me="Anna", messages=domain.MessagesDigest(5, "ef" * 32)))
    assert isinstance(reread, domain.ExhibitReread)
    assert reread.kind == "chat" and reread.changes == frozenset(domain.REREAD_CHANGES)
    assert reread.messages == domain.MessagesDigest(5, "ef" * 32)


def test_export_created_records_failed_verification_only_when_some_failed() -> None:
    args = {"path": "/p.pdf", "sha256": "0" * 64, "size": 9, "pages": 3, "lang": "zh", "exhibits": (1, 2),
            "fingerprint": None, "attachments": 0}
    assert "failed_verification" not in domain.export_created(1, **args)[1]
    entry = domain.export_created(1, **args, failed_verification=[2])
    assert entry[1]["failed_verification"] == [2] and entry[1]["exhibits"] == [1, 2]
    reading = _through_json(entry)
    assert isinstance(reading, domain.ExportCreated)
    assert reading.exhibits == (1, 2) and reading.failed_verification == (2,) and reading.pages == 3


@pytest.mark.parametrize("payload", [[1], None, "text", 42])
def test_a_payload_that_is_not_an_object_has_no_reading(payload: object) -> None:
    for action in domain.ACTIONS:
        assert domain.read_entry(action, payload) is None


@pytest.mark.parametrize("value", ["3", 3.0, True, None, [3], {"n": 3}])
def test_a_value_of_another_type_reads_as_none(value: object) -> None:
    reading = domain.read_entry("exhibit.added", {"exhibit": value, "size": value, "messages": value,
                                                 "title": 3})
    assert isinstance(reading, domain.ExhibitAdded)
    assert reading.exhibit is None and reading.size is None and reading.title is None
    # A non-empty object is a digest whose parts are missing: verify reports it as not matching.
    assert reading.messages == (domain.MessagesDigest(None, None) if isinstance(value, dict) else None)
    event = domain.read_entry("event.added", {"event": 1, "exhibits": [1, value]})
    assert isinstance(event, domain.EventAdded) and event.exhibits is None


def test_dispute_created_keeps_only_the_facts_it_holds() -> None:
    # An older entry may hold fewer facts: verify compares only those it holds.
    reading = domain.read_entry("dispute.created", {"id": "x", "title": "t", "status": "open", "forged": 1})
    assert isinstance(reading, domain.DisputeCreated)
    assert dict(reading.facts) == {"id": "x", "title": "t", "status": "open"} and reading.status == "open"
