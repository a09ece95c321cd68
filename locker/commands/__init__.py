"""Commands of the second wave, one module per area (edit, deadlines, ocr, …).

Each module does ``from ..cli import app, JsonOpt, _home, _progressing`` and registers its
commands with ``@app.command()``; :func:`register` imports every module here, in name
order, once ``locker.cli`` has made ``app``. A module here parses, calls one service and
renders what it returns, exactly like ``locker/cli.py``, and imports only typer at module
level so that ``locker --help`` stays fast.
"""

from __future__ import annotations

import importlib
import pkgutil


def register() -> None:
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if not info.name.startswith("_"):
            importlib.import_module(f"{__name__}.{info.name}")
