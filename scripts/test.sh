#!/usr/bin/env bash
# Install Tradewind into .venv, then run lint, types, layer contracts and the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh dev
.venv/bin/ruff check src tests bench
.venv/bin/mypy
.venv/bin/lint-imports
exec .venv/bin/pytest "$@"
