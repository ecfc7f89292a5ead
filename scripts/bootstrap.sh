#!/usr/bin/env bash
# Create .venv (if missing) and install Tradewind into it. Idempotent: a second run with an unchanged
# pyproject.toml does nothing.
#   bash scripts/bootstrap.sh          Tradewind and what it needs to run (what scripts/standalone.sh uses)
#   bash scripts/bootstrap.sh dev      plus every extra and the test tools (what scripts/test.sh uses)
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
profile=${1:-runtime}
case "$profile" in
  runtime) spec='.' ;;
  dev) spec='.[dev]' ;;
  *) echo "bootstrap.sh: unknown profile '$profile' (runtime or dev)" >&2; exit 2 ;;
esac

if ! "$PY" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
  echo "Tradewind needs Python 3.11 or newer; '$PY' is $("$PY" -V 2>&1 || echo missing). Set PYTHON=/path/to/python3.11." >&2
  exit 2
fi

stamp=.venv/.tradewind-installed-$profile
fresh() { [ -f "$1" ] && [ ! pyproject.toml -nt "$1" ]; }
# The dev install holds the runtime one.
if fresh "$stamp" || { [ "$profile" = runtime ] && fresh .venv/.tradewind-installed-dev; }; then
  exit 0
fi

say() { printf '%s\n' "$*" >&2; }
started=$SECONDS
if [ ! -x .venv/bin/python ]; then
  say "tradewind: creating the virtual environment .venv"
  "$PY" -m venv .venv
fi
say "tradewind: installing Tradewind ($profile) into .venv; the first time takes a few minutes"
.venv/bin/python -m pip install -q --upgrade pip
# pip's own output, one line per package, boiled down to a running count (errors still reach stderr).
.venv/bin/python -m pip install --progress-bar off -e "$spec" | awk -v tty="$([ -t 2 ] && echo 1 || echo 0)" '
  /^Collecting / { n++; if (tty) printf "\r  resolved %d packages", n > "/dev/stderr"; else if (n % 25 == 0) printf "  resolved %d packages\n", n > "/dev/stderr" }
  /^Installing collected packages/ { if (tty && n) printf "\n" > "/dev/stderr"; printf "  installing %d packages\n", split($0, names, ",") > "/dev/stderr" }
  /^Successfully installed/ { done = 1 }
  END { if (!done) printf "  nothing new to install\n" > "/dev/stderr" }'
# Byte-compile Tradewind's own modules once (pip compiled the dependencies): where the environment says not to
# write bytecode (PYTHONDONTWRITEBYTECODE), every process would otherwise compile them again at each start.
.venv/bin/python -m compileall -q -j 0 src >/dev/null
touch "$stamp"
say "tradewind: ready in $((SECONDS - started)) s (.venv/bin/tradewind, or 'source .venv/bin/activate')"
