#!/usr/bin/env bash
# The gettext catalogs of locker/locale/: extract every _(), N_() and ngettext() string of
# locker/ (commands/ included) → update each language's .po (new strings come in
# untranslated, changed ones fuzzy; tests/test_i18n.py fails until they are translated) →
# compile the .mo files the running program reads.
#
#   bash scripts/i18n.sh            extract, update, compile (after merging others' strings)
#   bash scripts/i18n.sh compile    only compile (what setup.py does at build/install)
#
# Babel comes with the test extra (.venv from scripts/setup.sh); it is never needed at run time.
set -euo pipefail
cd "$(dirname "$0")/.."
PYBABEL="${PYBABEL:-.venv/bin/pybabel}"
LOCALES=(zh)  # English is the source language: it needs no catalog
DIR=locker/locale

compile() {  # fuzzy entries are left out: a guess is never shown as a translation
  "$PYBABEL" compile -d "$DIR" -D locker
}

if [ "${1:-}" != "compile" ]; then
  pot=$(mktemp --suffix=.pot)
  trap 'rm -f "$pot"' EXIT
  "$PYBABEL" extract -F babel.cfg --project=locker --copyright-holder="the locker authors" \
    --no-wrap --sort-by-file -o "$pot" locker
  for lang in "${LOCALES[@]}"; do
    po="$DIR/$lang/LC_MESSAGES/locker.po"
    if [ -f "$po" ]; then
      cp "$po" "$pot.before"
      "$PYBABEL" update -i "$pot" -d "$DIR" -D locker -l "$lang" --no-wrap --ignore-obsolete
      # Nothing but the template's date changed: keep the file as it was (no churn in git).
      if diff -q <(grep -v '^"POT-Creation-Date:' "$pot.before") <(grep -v '^"POT-Creation-Date:' "$po") >/dev/null; then
        cp "$pot.before" "$po"
      fi
      rm -f "$pot.before"
    else
      "$PYBABEL" init -i "$pot" -d "$DIR" -D locker -l "$lang" --no-wrap
    fi
  done
fi
compile
# What is left to translate, per language (tests/test_i18n.py names each entry).
.venv/bin/python - "$DIR" "${LOCALES[@]}" <<'PY'
import sys
from pathlib import Path
from babel.messages.pofile import read_po
root = Path(sys.argv[1])
for lang in sys.argv[2:]:
    with open(root / lang / "LC_MESSAGES" / "locker.po", "rb") as f:
        catalog = read_po(f)
    todo = [m for m in catalog if m.id and (m.fuzzy or not all(m.string if isinstance(m.string, tuple) else (m.string,)))]
    print(f"i18n: {lang}: {len(catalog)} messages, {len(todo)} to translate", file=sys.stderr)
PY
