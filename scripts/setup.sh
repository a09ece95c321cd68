#!/usr/bin/env bash
# Set up everything locker needs on this machine: system packages (libmagic, a
# CJK TrueType font, poppler-utils and qpdf for the PDF tests, strace for tests/test_home_only.py, chromium
# for the web app's browser tests), a virtual
# environment in .venv and the project installed into it with its test extra, at the exact
# versions of constraints.txt.
# Safe to run again: it only does what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(libmagic1 fonts-wqy-microhei fontconfig poppler-utils qpdf python3-venv strace openssl chromium fonts-dejavu-core fonts-dejavu-extra)  # strace: the test that no run writes outside the home; openssl: ts -verify of timestamp tokens, and the tests' local TSA; chromium: the web app's browser tests; fonts-dejavu-*: Latin TrueType faces whose character maps tests/test_ttfread.py reads both ways

say() { printf 'setup: %s\n' "$*" >&2; }

missing_apt() {
  local pkg missing=()
  for pkg in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
  printf '%s\n' "${missing[@]}"
}

if command -v apt-get >/dev/null 2>&1 && command -v dpkg-query >/dev/null 2>&1; then
  mapfile -t missing < <(missing_apt | sed '/^$/d')
  if [ "${#missing[@]}" -gt 0 ]; then
    if [ "$(id -u)" -eq 0 ]; then
      say "installing system packages: ${missing[*]}"
      export DEBIAN_FRONTEND=noninteractive
      apt-get update -qq >/dev/null
      apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
      say "installing system packages with sudo: ${missing[*]}"
      sudo DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
      sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    else
      say "these system packages are missing; run this, then run me again:"
      printf '  sudo apt-get install -y %s\n' "${missing[*]}" >&2
      exit 1
    fi
  fi
elif [ "$(uname -s)" = "Darwin" ]; then
  if ! command -v brew >/dev/null 2>&1 || ! brew list libmagic >/dev/null 2>&1; then
    say "on macOS, run this first, then run me again:"
    printf '  brew install libmagic poppler qpdf\n' >&2
    exit 1
  fi
else
  say "unknown system: install libmagic, a CJK TrueType font (WenQuanYi Micro Hei), poppler-utils and qpdf yourself"
fi

# shellcheck source=scripts/python.sh
source scripts/python.sh  # PYTHON: the interpreter .venv is made with (it says why that one)
if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
  say "locker needs Python 3.11 or newer; found: $("$PYTHON" --version 2>&1 || echo none)"
  say "set PYTHON=/path/to/python3.11 and run me again"
  exit 1
fi

# A .venv made by another interpreter than the one chosen above is made again (by the default choice
# only when no PYTHON= of the user's made it: see scripts/python.sh).
base() { "$1" -c 'import sys; print(sys.base_prefix, sys.version)' 2>/dev/null; }
if [ -x .venv/bin/python ] && [ "$(base .venv/bin/python)" != "$(base "$PYTHON")" ]; then
  say "making .venv again with $PYTHON ($("$PYTHON" --version 2>&1))"
  rm -rf .venv
fi
if [ ! -x .venv/bin/python ]; then
  say "creating .venv with $PYTHON ($("$PYTHON" --version 2>&1))"
  "$PYTHON" -m venv .venv
fi
if [ -n "$LOCKER_PYTHON_GIVEN" ]; then  # the user's choice holds for the next runs too
  printf '%s\n' "$PYTHON" > "$LOCKER_PYTHON_CHOSEN"
fi

# Exact versions from constraints.txt (scripts/lock.sh writes it), so every machine gets the
# same packages. Reinstall only when pyproject.toml or constraints.txt changed since the last
# install.
stamp=.venv/.locker-installed
want=$(cat pyproject.toml setup.py constraints.txt | sha256sum | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ] || ! .venv/bin/python -c 'import locker' 2>/dev/null; then
  say "installing locker and its dependencies into .venv"
  .venv/bin/python -m pip install -q --upgrade pip >/dev/null 2>&1 || true
  .venv/bin/python -m pip install -q -c constraints.txt -e '.[test,ocr,c2pa,web,webtest,s3]' 2>&1 | grep -v 'is ignored' >&2 || true
  .venv/bin/python -c 'import locker, magic, av, pillow_heif, sqlmodel, reportlab, boto3' || {
    say "the install did not complete; see the messages above"; exit 1; }
  .venv/bin/python scripts/check_pins.py constraints.txt || {
    say "the installed versions differ from constraints.txt; see above"; exit 1; }
  echo "$want" > "$stamp"
  # Written back now, while setting up: a fresh .venv is 1.3 GB, which the kernel would otherwise
  # flush during the first minute of whatever runs next (the test suite, on a clean clone).
  sync
fi
# The gettext catalogs: the editable install compiled them (setup.py); a .po changed since
# (a pull, a merge) is compiled again here. Cheap: a few hundred messages.
.venv/bin/pybabel compile -d locker/locale -D locker >/dev/null 2>&1 || {
  say "compiling the message catalogs failed: run bash scripts/i18n.sh compile"; exit 1; }
# Byte-code for the package, as pip writes it for an ordinary (not editable) install: every
# `locker` command then starts as a user's does, even where PYTHONDONTWRITEBYTECODE is set (this
# machine's shells set it): without it each command compiled its modules again, about 80 ms of
# `locker add` (0.25 s -> 0.17 s for one small file), which the benchmarks counted as the locker's.
.venv/bin/python -m compileall -q locker >/dev/null || { say "compiling the package's byte-code failed"; exit 1; }
say "ready: .venv/bin/locker"
