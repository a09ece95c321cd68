"""The escalation ladder (merchant → platform → 12315 → court) and the general time limits, read from
``locker/data/escalation.toml`` and checked (:func:`escalation`), and how a period is counted
(:func:`add_period`). :func:`locker.services.deadlines.next_step` looks a dispute up in them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache
from typing import Any

from ..errors import LockerError
from ..i18n import _

Texts = Mapping[str, str]  # {"en": …, "zh": …}


@dataclass(frozen=True)
class Step:
    id: str
    title: Texts
    what: Texts
    statuses: tuple[str, ...]
    events: tuple[str, ...]
    documents: tuple[tuple[tuple[str, ...], Texts], ...]  # (export's extra arguments, what it makes)


@dataclass(frozen=True)
class Rule:
    id: str
    title: Texts
    text: Texts
    counted_from: Texts
    source: str
    period: int
    unit: str  # days | working_days | years
    from_events: tuple[str, ...]
    from_field: str | None
    steps: tuple[str, ...]


@dataclass(frozen=True)
class Escalation:
    steps: tuple[Step, ...]
    rules: tuple[Rule, ...]
    finished: tuple[str, ...]
    platform_note: Texts
    disclaimer: Texts


def _texts(value: object, where: str) -> Texts:
    if not isinstance(value, dict) or not all(isinstance(value.get(k), str) for k in ("en", "zh")):
        raise LockerError(_("escalation.toml: {where} needs an en and a zh text").format(where=where))
    return {"en": value["en"].strip(), "zh": value["zh"].strip()}


UNITS = ("days", "working_days", "years")


def parse_rules(data: Mapping[str, Any]) -> Escalation:
    """The escalation data, checked: a mistake in the file is one clear error, not a crash later."""
    steps = []
    for s in data.get("step", []):
        docs = tuple((tuple(str(a) for a in d.get("args", [])), _texts(d, f"a document of step {s['id']}"))
                     for d in s.get("documents", []))
        steps.append(Step(str(s["id"]), _texts(s.get("title"), f"step {s['id']} title"),
                          _texts(s.get("what"), f"step {s['id']} what"), tuple(s.get("statuses", [])),
                          tuple(s.get("events", [])), docs))
    rules = []
    known = {s.id for s in steps}
    for r in data.get("rule", []):
        if r.get("unit") not in UNITS or type(r.get("period")) is not int or not r.get("source"):
            raise LockerError(_("escalation.toml: rule {rule} needs a period, a unit of {units} and a source").format(
                rule=r.get("id"), units=UNITS))
        if not set(r.get("steps", [])) <= known:
            raise LockerError(_("escalation.toml: rule {rule} names an unknown step").format(rule=r["id"]))
        rules.append(Rule(str(r["id"]), _texts(r.get("title"), f"rule {r['id']} title"),
                          _texts(r.get("text"), f"rule {r['id']} text"),
                          _texts(r.get("from"), f"rule {r['id']} from"), str(r["source"]), r["period"], r["unit"],
                          tuple(r.get("from_events", [])), r.get("from_field"), tuple(r.get("steps", []))))
    finished = data.get("finished")
    if not isinstance(finished, list) or not steps:
        raise LockerError(_("escalation.toml: needs its steps and a top-level finished = [statuses]"))
    return Escalation(tuple(steps), tuple(rules), tuple(finished),
                      _texts(data.get("platform_note"), "platform_note"), _texts(data.get("disclaimer"), "disclaimer"))


@cache
def escalation() -> Escalation:
    """The rules shipped in ``locker/data/escalation.toml``."""
    import tomllib
    from importlib.resources import files

    text = files("locker").joinpath("data", "escalation.toml").read_text(encoding="utf-8")
    return parse_rules(tomllib.loads(text))


def add_period(start: date, period: int, unit: str) -> date:
    """The last day of a period of ``period`` ``unit`` counted from ``start``: the start day itself
    is not counted (《民法典》第二百零一条); a period in years ends on the same day of the month, or
    the month's last day when it has none (第二百零二条). Working days skip Saturdays and Sundays only."""
    if unit == "days":
        return start + timedelta(days=period)
    if unit == "working_days":
        day, left = start, period
        while left:
            day += timedelta(days=1)
            if day.weekday() < 5:
                left -= 1
        return day
    if unit == "years":
        try:
            return start.replace(year=start.year + period)
        except ValueError:  # 29 February, in a year without one
            return start.replace(year=start.year + period, day=28)
    raise ValueError(unit)
