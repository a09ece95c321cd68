"""Compare the installed distributions with a constraints file; exit 1 naming each that differs.

``scripts/setup.sh`` runs it after installing, so a machine that ended up with other versions
than ``constraints.txt`` (an old venv, a pip that ignored a pin) says so instead of testing
something else. ``--report`` only lists the differences (``make latest`` uses it to show what
the newest releases changed) and always exits 0.
"""

from __future__ import annotations

import re
import sys
from importlib import metadata


def pins(path: str) -> dict[str, str]:
    found = {}
    for line in open(path, encoding="utf-8"):
        line = line.split("#", 1)[0].strip()
        if "==" in line:
            name, version = line.split("==", 1)
            found[canonical(name)] = version.strip()
    return found


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def main(argv: list[str]) -> int:
    report = "--report" in argv
    path = next(a for a in argv if not a.startswith("--"))
    installed = {canonical(d.metadata["Name"]): d.version for d in metadata.distributions()}
    differ = []
    for name, want in sorted(pins(path).items()):
        have = installed.get(name)
        if have != want:
            differ.append(f"  {name}: {path} pins {want}, installed {have or 'nothing'}")
    if differ:
        print(("newer than the pins:" if report else "not as pinned:"), *differ, sep="\n", file=sys.stderr)
    return 0 if report or not differ else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
