#!/usr/bin/env bash
# Entrypoint of the Tradewind image: turns a role into a `tradewind` command and exec's it, so the process
# gets signals straight from tini (PID 1) and stops cleanly.
#
#   webserver [ARGS]        tradewind webserver (--host 0.0.0.0 --port 8080 unless ARGS are given)
#   scheduler [ARGS]        tradewind scheduler
#   dag-processor [ARGS]    tradewind dag-processor
#   triggerer [ARGS]        tradewind triggerer
#   celery-worker [ARGS]    tradewind celery worker
#   wait-for-migrations     poll `tradewind db check` until the schema is current (init containers)
#   create-admin            create the admin user from TRADEWIND_ADMIN_USER / TRADEWIND_ADMIN_PASSWORD
#                           unless it exists; the password goes over stdin, never on a command line
#   celery-worker-alive     exit 0 when this host's Celery worker (tradewind@HOSTNAME) answers (probes)
#   bash | sh | python ...  run that program (debugging)
#   tradewind ARGS | ARGS   any other tradewind command: tasks run ..., db migrate, users list, version ...
set -euo pipefail

die() {
  echo "tradewind-entrypoint: $*" >&2
  exit 2
}

wait_for_migrations() {
  local timeout=${TRADEWIND_MIGRATION_WAIT_TIMEOUT:-600}
  local interval=${TRADEWIND_MIGRATION_WAIT_INTERVAL:-5}
  local deadline=$((SECONDS + timeout))
  until tradewind db check; do
    if ((SECONDS >= deadline)); then
      echo "tradewind-entrypoint: the database schema is still not current after ${timeout}s;" \
        "is the migration Job (tradewind db migrate) failing?" >&2
      exit 1
    fi
    sleep "$interval"
  done
}

admin_exists() {
  # `users list -o json` prints a JSON array of objects with a "username" field.
  tradewind users list -o json | python -c '
import json, sys
users = json.load(sys.stdin)
sys.exit(0 if any(u.get("username") == sys.argv[1] for u in users) else 1)
' "$1"
}

create_admin() {
  [ -n "${TRADEWIND_ADMIN_USER:-}" ] || die "create-admin needs TRADEWIND_ADMIN_USER"
  [ -n "${TRADEWIND_ADMIN_PASSWORD:-}" ] || die "create-admin needs TRADEWIND_ADMIN_PASSWORD"
  if admin_exists "$TRADEWIND_ADMIN_USER"; then
    echo "tradewind-entrypoint: user ${TRADEWIND_ADMIN_USER} exists; leaving it unchanged"
    exit 0
  fi
  local password=$TRADEWIND_ADMIN_PASSWORD
  unset TRADEWIND_ADMIN_PASSWORD
  exec tradewind users create --username "$TRADEWIND_ADMIN_USER" --role admin --password-stdin <<<"$password"
}

celery_worker_alive() {
  # `celery status -o json` lists the workers that answer; ours is named tradewind@<pod name>.
  local name="tradewind@${HOSTNAME:-$(hostname)}"
  tradewind celery status --output json --timeout "${TRADEWIND_CELERY_PING_TIMEOUT:-10}" | python -c '
import json, sys
workers = json.load(sys.stdin)
sys.exit(0 if any(w.get("worker") == sys.argv[1] for w in workers) else 1)
' "$name"
}

if [ $# -eq 0 ]; then
  set -- webserver
fi

role=$1
case "$role" in
  webserver)
    shift
    if [ $# -eq 0 ]; then
      set -- --host 0.0.0.0 --port 8080
    fi
    exec tradewind webserver "$@"
    ;;
  scheduler)
    shift
    exec tradewind scheduler "$@"
    ;;
  dag-processor)
    shift
    exec tradewind dag-processor "$@"
    ;;
  triggerer)
    shift
    exec tradewind triggerer "$@"
    ;;
  celery-worker)
    shift
    exec tradewind celery worker "$@"
    ;;
  wait-for-migrations)
    wait_for_migrations
    ;;
  create-admin)
    create_admin
    ;;
  celery-worker-alive)
    celery_worker_alive
    ;;
  tradewind)
    shift
    exec tradewind "$@"
    ;;
  bash | sh | python | python3 | /*)
    exec "$@"
    ;;
  *)
    exec tradewind "$@"
    ;;
esac
