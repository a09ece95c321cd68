"""User-facing text in the user's language (gettext).

Every string a person reads — help, messages, table headers, progress labels, errors — is
written in English in the code and wrapped at the point of use::

    from .i18n import _
    raise NotFound(_("no dispute named {name}").format(name=name))

Placeholders are named and filled *after* translation (never an f-string inside ``_()``),
so that the catalogs hold one entry per sentence. ``N_()`` only marks a string for
extraction (for module-level constants and help texts, translated later with ``_()``; the
command line translates every ``help=N_(...)`` when it shows help).

The language is a context variable: the command line sets it once per run (``--lang``, the
profile, ``LC_ALL``/``LC_MESSAGES``/``LANG``; ``--json`` runs in English so that documents
never change with the language), and the web app per request. The core may call ``_()``;
it never decides the language itself (:func:`choose` is the rule the interfaces apply).

The catalogs are ``locale/<lang>/LC_MESSAGES/locker.po`` in the repository, compiled to
``.mo`` when the package is built or installed (``setup.py``, ``scripts/i18n.sh``); Babel
is needed for that, never at run time. A missing ``.mo`` falls back to English.
"""

from __future__ import annotations

import contextvars
import gettext as _gettext
import os
from collections.abc import Mapping
from pathlib import Path

DOMAIN = "locker"
LOCALE_DIR = Path(__file__).parent / "locale"
DEFAULT = "en"
LANGUAGES = ("en", "zh")  # what the user interface speaks (the pack has its own labels)

_lang: contextvars.ContextVar[str] = contextvars.ContextVar("locker_lang", default=DEFAULT)
_catalogs: dict[str, _gettext.NullTranslations] = {}


def _catalog(lang: str) -> _gettext.NullTranslations:
    found = _catalogs.get(lang)
    if found is None:
        found = _gettext.translation(DOMAIN, LOCALE_DIR, languages=[lang], fallback=True)
        _catalogs[lang] = found
    return found


def set_language(lang: str) -> contextvars.Token[str]:
    """Use ``lang`` ("zh" or "en") for what this context says from now on."""
    return _lang.set(lang)


def language() -> str:
    return _lang.get()


def _(message: str) -> str:
    lang = _lang.get()
    if lang == DEFAULT:
        return message
    return _catalog(lang).gettext(message)


def gettext_in(lang: str, message: str) -> str:
    """``message`` in ``lang`` whatever this run speaks (the pack has a language of its own)."""
    if lang == DEFAULT:
        return message
    return _catalog(lang).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    lang = _lang.get()
    if lang == DEFAULT:
        return singular if n == 1 else plural
    return _catalog(lang).ngettext(singular, plural, n)


def N_(message: str) -> str:
    """Mark for extraction only; translate later with ``_()``."""
    return message


def normalize(value: str | None) -> str | None:
    """``zh``, ``zh_CN.UTF-8``, ``zh-Hans``, ``EN`` → ``zh`` / ``en``; anything else → None."""
    if not value:
        return None
    code = value.strip().split(".")[0].split("@")[0].replace("-", "_").lower()
    for lang in LANGUAGES:
        if code == lang or code.startswith(lang + "_"):
            return lang
    return None


def from_environment(environ: Mapping[str, str] | None = None) -> str | None:
    """The language the POSIX locale asks for: the first of ``LC_ALL``, ``LC_MESSAGES``,
    ``LANG`` that is set decides (``C``, ``POSIX`` or a language we do not speak: English)."""
    env = os.environ if environ is None else environ
    for name in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = env.get(name)
        if value:
            return normalize(value) or DEFAULT
    return None


def choose(explicit: str | None = None, profile: str | None = None,
           environ: Mapping[str, str] | None = None) -> str:
    """The rule: ``--lang``, else the profile's ``lang``, else the locale, else English."""
    return normalize(explicit) or normalize(profile) or from_environment(environ) or DEFAULT
