"""Build hook: compile the gettext catalogs (locker/locale/*/LC_MESSAGES/*.po → .mo).

Everything else about the package is in pyproject.toml. The repository holds only the
``.po`` files; the ``.mo`` files the program reads are made here, when a wheel is built
(``pip install .``: into the build tree, so into the wheel) or an editable install is made
(``pip install -e .``, as scripts/setup.sh does: next to the ``.po`` files, where the
running code looks). Babel is a build requirement for this (pyproject.toml), never a
run-time one. ``scripts/i18n.sh compile`` does the same from the command line.
"""

from __future__ import annotations

from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

LOCALE = Path(__file__).resolve().parent / "locker" / "locale"


def compile_catalogs(target: Path) -> list[Path]:
    """Write ``target/<lang>/LC_MESSAGES/<domain>.mo`` for every ``.po`` of LOCALE; fuzzy
    entries are left out (a guess is never shown as a translation)."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    written = []
    for po in sorted(LOCALE.glob("*/LC_MESSAGES/*.po")):
        mo = target / po.relative_to(LOCALE).with_suffix(".mo")
        mo.parent.mkdir(parents=True, exist_ok=True)
        with po.open("rb") as f:
            catalog = read_po(f, locale=po.parent.parent.name)
        with mo.open("wb") as f:
            write_mo(f, catalog, use_fuzzy=False)
        written.append(mo)
    return written


class build_py_with_catalogs(build_py):
    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            compile_catalogs(LOCALE)
        else:
            compile_catalogs(Path(self.build_lib) / "locker" / "locale")


setup(cmdclass={"build_py": build_py_with_catalogs})
