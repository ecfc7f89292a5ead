#!/usr/bin/env bash
# Install Tradewind into .venv, then run lint, types, layer contracts and the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh dev
# Byte-compile the tree once: the editable install leaves src/ uncompiled, and where PYTHONDONTWRITEBYTECODE
# is set (this sandbox, many CI images) every `tradewind` process the tests start would compile the ~250
# modules it imports again (0.2 s of CPU each; docs/dev/testing-under-load.md).
.venv/bin/python -m compileall -q -j 0 -x '/fixtures/' src tests bench >/dev/null  # fixtures hold broken DAG files on purpose
# With podman, the container tests' image (tests/container_image.py) builds in the background while lint and
# type checks run; those tests wait for it on the same lock. On by default for the whole suite (no arguments);
# TRADEWIND_IMAGE_PREBUILD=1 or 0 forces it on or off. Stopped, with its podman build, when this script ends.
prebuild=
if [ "${TRADEWIND_IMAGE_PREBUILD:-$((!$#))}" = 1 ] && command -v podman >/dev/null 2>&1; then
  mkdir -p test-artifacts
  setsid .venv/bin/python -m tests.container_image >test-artifacts/image-build.log 2>&1 &
  prebuild=$!
  trap 'kill -TERM -- "-$prebuild" 2>/dev/null || true' EXIT
fi
# pytest rewrites the asserts of every test module as it imports it, and caches the result in __pycache__ only
# where bytecode may be written; it reads that cache either way. Under PYTHONDONTWRITEBYTECODE each xdist
# worker would rewrite all ~330 modules again (about 7 of its 13 CPU s of collection): one collection with
# bytecode allowed fills the cache, in the background while lint and type checks run.
PYTHONDONTWRITEBYTECODE= .venv/bin/python -m pytest --collect-only -q -p no:cacheprovider "$@" >/dev/null 2>&1 &
rewrite_cache=$!
.venv/bin/ruff check src tests bench
.venv/bin/mypy
.venv/bin/lint-imports
wait "$rewrite_cache" || true  # a collection error is reported by the run below
# Two worker processes (pytest-xdist) per core, two to four, a test module's tests in one of them (their module
# fixtures are shared), the long modules handed out first (LONG_MODULES in tests/conftest.py); each test has
# its own home, databases, ports and queues. The suite waits on the services it starts as much as it computes:
# the extra workers fill those waits (2 cores, same tree: 809 s with three workers, 775 s with four, the cores
# 92 % and 97 % busy; docs/dev/testing-under-load.md). TRADEWIND_TEST_WORKERS=N sets it, 0 runs serially.
workers=${TRADEWIND_TEST_WORKERS:-$(( $(nproc 2>/dev/null || echo 1) * 2 ))}
if [ "$workers" -gt 4 ]; then workers=4; fi
if [ "$workers" -lt 2 ] && [ "$workers" -ne 0 ]; then workers=2; fi
status=0
.venv/bin/pytest -n "$workers" --dist loadfile --no-loadscope-reorder "$@" || status=$?
exit "$status"
