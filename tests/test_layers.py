"""The layer rule, checked on the import statements themselves (parsed with ast, including the
imports inside functions): a module imports from its own layer or the layers below, never above.

    interface   cli, __main__, render, documents parse, call one service, print
                web/*                             the same, for a browser (locker serve)
    services    services/*                       one use case each
    features    report/*, media/*, search/*, chats/*, ocr/*
    records     db, migrations, models, custody  SQLite and the custody chain
    base        store, durable, derived, readbudget, values, domain, words, paths, errors, i18n

The core (everything below the interface) never imports typer, rich or click: it never prints.
``locker.domain`` is the vocabulary every layer may use, so it imports nothing of locker but its plain words (``locker.words``).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from functools import cache
from pathlib import Path

from tests.conftest import REPO

LAYERS = {  # module or package prefix -> layer (higher may import lower)
    "locker.cli": 4, "locker.shell": 4, "locker.commands": 4, "locker.__main__": 4, "locker.render": 4, "locker.documents": 4,
    "locker.web": 4,  # the web app (locker serve): an interface like the command line
    "locker.services": 3,
    "locker.remote": 3,  # write-once copies on S3 Object Lock storage (issue 15): use cases beside the services
    "locker.report": 2, "locker.bundle": 2, "locker.media": 2, "locker.search": 2, "locker.chats": 2, "locker.ocr": 2,
    "locker.kit": 2,  # upload kits: form profiles, card drawing, the description (issue 16)
    "locker.db": 1, "locker.migrations": 1, "locker.models": 1, "locker.custody": 1,
    "locker.warncodes": 0,  # warnings as codes with parameters, put into words when shown
    "locker.gcpause": 0,  # the garbage collector held back while a reader builds many objects
    "locker.interrupts": 0,  # a Ctrl-C that a library swallowed still stops the command
    "locker.tsa": 0,  # RFC 3161 (a package: asking, checking and their DER): asks a TSA for a token, checks one; bytes in, bytes out (no home)
    "locker.names": 0,  # readable slugs and "did you mean": plain functions over str (and pypinyin)
    "locker.store": 0, "locker.durable": 0, "locker.derived": 0, "locker.readbudget": 0, "locker.values": 0, "locker.domain": 0, "locker.words": 0, "locker.paths": 0, "locker.errors": 0, "locker.i18n": 0, "locker": 0,
}
# Imports between packages of the features layer: which one may use which.
SIDEWAYS = {
    ("locker.report", "locker.media"),  # the pack draws pictures with the media renditions
    ("locker.media", "locker.chats"),  # probe asks the chat registry whether a file is a chat
    ("locker.ocr", "locker.media"),  # OCR opens pictures and cuts long screenshots the way the pack does
    ("locker.kit", "locker.report"),  # kit cards use the pack's labels (platforms, time sources, kinds)
}
# Known exceptions, each with its reason.
EXCEPTIONS = {
    ("locker.migrations", "locker.search.index"):
        "m003 fills the new search index with what an old database holds, through the index code",
}
UI_TOOLKITS = ("typer", "rich", "click")


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


@cache
def _imports(path: Path) -> tuple[tuple[int, str], ...]:
    """(line, imported module) of every import in the file, at any depth, relative ones resolved."""
    return tuple(_walk(path))


def _walk(path: Path) -> Iterator[tuple[int, str]]:
    name = _module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            for alias in node.names:  # from x import y: y may be a module of x
                yield node.lineno, _existing(f"{target}.{alias.name}") or target


@cache
def _existing(module: str) -> str | None:
    path = REPO.joinpath(*module.split("."))
    return module if path.with_suffix(".py").is_file() or (path / "__init__.py").is_file() else None


def _home_of(module: str) -> str | None:
    """The LAYERS key a locker module falls under (the longest matching prefix)."""
    keys = [k for k in LAYERS if module == k or module.startswith(k + ".")]
    keys = [k for k in keys if k != "locker" or module == "locker"]
    return max(keys, key=len) if keys else None


def _feature(module: str) -> str:
    return ".".join(module.split(".")[:2])


def _modules() -> list[Path]:
    return sorted((REPO / "locker").rglob("*.py"))


def test_every_module_has_a_layer() -> None:
    assert [str(p) for p in _modules() if _home_of(_module_name(p)) is None] == [], "add it to LAYERS"


def test_no_module_imports_from_a_layer_above() -> None:
    wrong = []
    for path in _modules():
        name = _module_name(path)
        here = _home_of(name)
        if here is None:
            continue
        for line, target in _imports(path):
            there = _home_of(target) if target.startswith("locker") else None
            if there is None or (name, target) in EXCEPTIONS:
                continue
            upward = LAYERS[there] > LAYERS[here]
            sideways = (LAYERS[there] == LAYERS[here] == 2 and _feature(name) != _feature(target)
                        and (_feature(name), _feature(target)) not in SIDEWAYS)
            if upward or sideways:
                wrong.append(f"{path.relative_to(REPO)}:{line}: {name} imports {target}")
    assert wrong == []


def test_the_core_never_imports_the_cli_toolkit() -> None:
    wrong = []
    for path in _modules():
        name = _module_name(path)
        if LAYERS.get(_home_of(name) or "", 4) == 4:
            continue
        for line, target in _imports(path):
            if target.split(".")[0] in UI_TOOLKITS:
                wrong.append(f"{path.relative_to(REPO)}:{line}: {name} imports {target}")
    assert wrong == []


def test_the_domain_imports_nothing_of_locker_but_its_words() -> None:
    for name, allowed in (("domain.py", {"locker.words"}), ("words.py", set())):
        found = {target for _line, target in _imports(REPO / "locker" / name) if target.split(".")[0] == "locker"}
        assert found <= allowed, name


def test_the_rule_sees_imports_inside_functions() -> None:
    """A lazy import is still an import: the rule reads function bodies too (cli imports
    everything but typer inside its commands, as locker.commands.core does)."""
    found = {target for _line, target in _imports(REPO / "locker" / "commands" / "core.py")}
    assert {"locker.services.disputes", "locker.services.ingest", "locker.render"} <= found


# What the web app may use of the core: the services (where the logic is), and the vocabulary,
# errors, language, paths and text helpers every interface uses. Nothing of the records or
# features layers, the store or the database: a page that needs something calls a service, so
# no rule is written twice.
WEB_MAY_IMPORT = ("locker.services", "locker.web", "locker.documents", "locker.render", "locker.domain",
                  "locker.warncodes",  # stored warnings put into the page's words, as render does for the terminal
                  "locker.errors", "locker.i18n", "locker.paths", "locker.values", "locker")


def test_the_web_app_calls_services_and_holds_no_logic_of_its_own() -> None:
    wrong = []
    for path in sorted((REPO / "locker" / "web").rglob("*.py")):
        for line, target in _imports(path):
            if target.split(".")[0] != "locker":
                continue
            if not any(target == m or target.startswith(m + ".") for m in WEB_MAY_IMPORT[:-1]) and target != "locker":
                wrong.append(f"{path.relative_to(REPO)}:{line}: imports {target}")
    assert wrong == []
    assert (REPO / "locker" / "web" / "app.py").is_file()  # the rule has something to look at
    found = {t for _l, t in _imports(REPO / "locker" / "web" / "app.py")}
    assert any(t.startswith("locker.services.") for t in found)
