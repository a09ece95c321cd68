# Sourced by setup.sh, lock.sh and test-latest.sh (from the repository's root): sets PYTHON to the
# interpreter they make their virtual environments with, so that the pins are resolved and tested on
# the Python that runs them.
#
# In order: $PYTHON if set (LOCKER_PYTHON_GIVEN is then 1, and setup.sh remembers it in
# .venv/.locker-python); the interpreter remembered so, when .venv was made with a PYTHON= of the
# user's; the system's own /usr/bin/python3 when it is 3.11 or newer and can make a venv; the first
# python3 on PATH. Debian's build (libpython linked into the program) started in 10 ms where a
# pyenv build of 3.11.7 (a shared libpython, without --enable-optimizations) took 30-50 ms on
# this project's VM, and ran Python code 15-20 % faster: a 2,000-file `locker add` took 0.06 s and
# 0.2 user CPU-s less (medians of six alternating pairs; benchmarks/README.md, session 20).
LOCKER_PYTHON_CHOSEN=.venv/.locker-python
_locker_python_usable() { "$1" -c 'import sys, ensurepip, venv; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; }
LOCKER_PYTHON_GIVEN=
if [ -n "${PYTHON:-}" ]; then
  LOCKER_PYTHON_GIVEN=1
elif [ -s "$LOCKER_PYTHON_CHOSEN" ]; then
  PYTHON=$(cat "$LOCKER_PYTHON_CHOSEN")
else
  PYTHON=python3
  if [ -x /usr/bin/python3 ] && _locker_python_usable /usr/bin/python3; then
    PYTHON=/usr/bin/python3
  fi
fi
