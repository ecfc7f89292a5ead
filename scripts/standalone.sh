#!/usr/bin/env bash
# Install Tradewind into .venv and start it in standalone mode (scheduler + webserver, SQLite, examples).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
exec .venv/bin/tradewind standalone "$@"
