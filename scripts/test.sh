#!/usr/bin/env bash
# Install Tradewind into .venv, then run lint, types, layer contracts and the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh dev
.venv/bin/ruff check src tests bench
.venv/bin/mypy
.venv/bin/lint-imports
# Two to four worker processes (pytest-xdist), a test module's tests in one of them (their module fixtures
# are shared); each test has its own home, databases, ports and queues. TRADEWIND_TEST_WORKERS=0 runs serially.
workers=${TRADEWIND_TEST_WORKERS:-$(nproc 2>/dev/null || echo 2)}
if [ "$workers" -gt 4 ]; then workers=4; fi
if [ "$workers" -lt 2 ] && [ "$workers" -ne 0 ]; then workers=2; fi
exec .venv/bin/pytest -n "$workers" --dist loadfile "$@"
