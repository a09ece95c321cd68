"""The Jinja2 templates of the web app: HTML-escaped always (autoescape), translated through the
same gettext catalogs as the command line (``_()`` in a template is :func:`locker.i18n._`).

Text that came from a user or a file (names, titles, chat lines) goes through the ``t`` filter:
control characters and bidirectional overrides (U+202E makes ``gpj.exe`` read as ``exe.jpg``)
are shown as visible escapes, as the terminal output does (:func:`locker.render.safe`), then
HTML-escaped by autoescape. Long text keeps its line breaks (``long`` filter).
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

from ..i18n import _, ngettext
from ..render import safe, shown_code
from ..values import human_size

TEMPLATES = Path(__file__).parent / "templates"


def _t(value: object) -> str:
    """One line of untrusted text, made inert (see the module's docstring)."""
    return "" if value is None else safe(value)


def _warning(value: object) -> str:
    """A stored warning (a code with its values, or an older English sentence) in the page's language, made inert."""
    from .. import warncodes

    return "" if value is None else safe(warncodes.show(str(value)))


def _long(value: object) -> str:
    """Several lines of untrusted text: line breaks kept, other controls and bidi marks escaped."""
    if value is None:
        return ""
    return "\n".join(safe(line) for line in str(value).split("\n"))


def _short(sha256: object) -> str:
    return str(sha256 or "")[:12]


def _when(value: object) -> str:
    return "" if not value else str(value).replace("T", " ")


@cache
def environment() -> Any:
    from jinja2 import Environment, FileSystemLoader, select_autoescape

    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(default=True),
                      trim_blocks=True, lstrip_blocks=True)
    env.filters.update(t=_t, long=_long, short=_short, when=_when, size=human_size, warning=_warning)
    env.globals.update(_=_, ngettext=ngettext, shown=shown_code)
    return env


def render_page(template: str, **context: Any) -> str:
    return str(environment().get_template(template).render(**context))
