"""Upload-form profiles (``locker/data/forms.toml``, and the user's own in the home's ``locker.toml``).

Each value of a profile carries how far it can be trusted: ``checked`` on a date (with its source),
``assumed`` (a guess to check on the platform), or ``defined`` (the locker's own generic profiles).
:class:`Value` keeps that next to the number, so that ``locker kit`` and ``kit.json`` can say it and a
guess is never presented as a platform's rule. Standard library only.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from ..errors import LockerError, UsageError
from ..i18n import _

LIMITS = ("max_images", "max_bytes", "max_width", "max_height", "types", "text_limit")


@dataclass(frozen=True)
class Value:
    """One limit of a form and its standing: ``checked`` (a date), ``assumed`` or ``defined``."""

    value: Any
    standing: str  # "checked" | "assumed" | "defined"
    checked_on: str | None = None
    source: str | None = None
    note: str | None = None

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"value": self.value, "standing": self.standing}
        if self.checked_on:
            out["checked_on"] = self.checked_on
        if self.source:
            out["source"] = self.source
        if self.note:
            out["note"] = self.note
        return out


@dataclass(frozen=True)
class Form:
    id: str
    names: dict[str, str]  # lang → name
    kind: str  # generic | authority | platform | user
    max_images: Value
    max_bytes: Value
    max_width: Value
    max_height: Value
    types: Value
    text_limit: Value
    overview: bool = True  # an overview card (timeline + claim) comes first
    pack: bool = False  # the form takes the PDF pack too (12315)
    platforms: tuple[str, ...] = ()
    origin: str = "locker"  # "locker" (forms.toml) | "home" (locker.toml)
    extra: dict[str, Any] = field(default_factory=dict)

    def name(self, lang: str) -> str:
        return self.names.get(lang) or self.names.get("en") or self.names.get("zh") or self.id

    def limits(self) -> dict[str, Value]:
        return {k: getattr(self, k) for k in LIMITS}

    @property
    def assumed(self) -> tuple[str, ...]:
        """The limits that are assumptions to check."""
        return tuple(k for k, v in self.limits().items() if v.standing == "assumed")


def _value(form_id: str, key: str, raw: Any, where: str) -> Value:
    if not isinstance(raw, dict) or "value" not in raw:
        raise LockerError(_("{where}: form {form}: {key} must be a table like "
                            "{{ value = 5, checked = 2026-01-15, source = \"…\" }} or "
                            "{{ value = 5, assumed = true }}").format(where=where, form=form_id, key=key))
    value = raw["value"]
    if key == "types":
        ok = isinstance(value, list) and value and all(isinstance(t, str) for t in value)
    else:
        ok = type(value) is int and value > 0
    if not ok:
        raise LockerError(_("{where}: form {form}: {key} has an unusable value {value!r}").format(
            where=where, form=form_id, key=key, value=value))
    checked = raw.get("checked")
    if isinstance(checked, date):
        standing, on = "checked", checked.isoformat()
    elif isinstance(checked, str) and checked.strip():
        standing, on = "checked", checked.strip()
    elif raw.get("defined") is True:
        standing, on = "defined", None
    else:
        standing, on = "assumed", None  # anything not said to be checked is an assumption
    note = raw.get("note")
    source = raw.get("source")
    return Value(value=list(value) if key == "types" else value, standing=standing, checked_on=on,
                 source=str(source) if source else None, note=str(note) if note else None)


def _form(form_id: str, raw: Any, where: str, origin: str) -> Form:
    if not isinstance(raw, dict):
        raise LockerError(_("{where}: form {form} is not a table").format(where=where, form=form_id))
    names = raw.get("name")
    if isinstance(names, str):
        names = {"zh": names, "en": names}
    if not isinstance(names, dict):
        names = {}
    values = {k: _value(form_id, k, raw.get(k), where) for k in LIMITS}
    platforms = raw.get("platforms") or ()
    return Form(
        id=form_id, names={str(k): str(v) for k, v in names.items()},
        kind=str(raw.get("kind") or ("user" if origin == "home" else "generic")),
        overview=bool(raw.get("overview", True)), pack=bool(raw.get("pack", False)),
        platforms=tuple(str(p) for p in platforms if isinstance(p, str)), origin=origin,
        max_images=values["max_images"], max_bytes=values["max_bytes"], max_width=values["max_width"],
        max_height=values["max_height"], types=values["types"], text_limit=values["text_limit"],
    )


def shipped() -> dict[str, Form]:
    """The profiles shipped in ``locker/data/forms.toml``."""
    from importlib.resources import files

    text = files("locker").joinpath("data", "forms.toml").read_text(encoding="utf-8")
    data = tomllib.loads(text)
    return {k: _form(k, v, "forms.toml", "locker") for k, v in (data.get("forms") or {}).items()}


def from_home(profile_path: Path) -> dict[str, Form]:
    """The user's own profiles: ``[forms.NAME]`` tables in the home's ``locker.toml``."""
    from ..paths import read_profile

    data = read_profile(profile_path)
    forms = data.get("forms") or {}
    if not isinstance(forms, dict):
        return {}
    return {str(k): _form(str(k), v, "locker.toml", "home") for k, v in forms.items()}


def all_forms(profile_path: Path) -> dict[str, Form]:
    """Shipped profiles, then the home's (a home profile with a shipped name replaces it)."""
    return {**shipped(), **from_home(profile_path)}


def pick(profile_path: Path, wanted: str | None, platform: str | None) -> Form:
    """The form named by ``--for``; without it, the platform's form when there is one, else generic-9."""
    forms = all_forms(profile_path)
    if wanted:
        key = wanted.strip()
        if key not in forms:
            raise UsageError(_("no upload form named {name!r}; known: {known}").format(
                name=key, known=", ".join(sorted(forms))))
        return forms[key]
    if platform:
        for form in forms.values():
            if platform in form.platforms:
                return form
    return forms["generic-9"]
