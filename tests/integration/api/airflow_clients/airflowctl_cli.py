"""Drives the airflowctl command line (apache-airflow-ctl) against Tradewind (run in its own virtualenv).

Reads {"url", "username", "password", "airflow_home", "manual_dag"} as JSON on stdin; logs in with a username
and password (POST /auth/token/cli), then runs ``dags list``, ``pools list``, ``dags pause`` and
``version --remote``, and prints their parsed output as JSON. A failing command fails the script."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any


def run(env: dict[str, str], *args: str) -> str:
    ctl = str(Path(sys.executable).with_name("airflowctl"))
    done = subprocess.run([ctl, *args], env=env, capture_output=True, text=True, timeout=120)
    if done.returncode != 0:
        raise SystemExit(
            f"airflowctl {' '.join(args)} exited {done.returncode}:\n{done.stdout}\n{done.stderr}"
        )
    return done.stdout


def json_part(text: str) -> Any:
    """The JSON document in a command's output (airflowctl may print a line of text before it)."""
    start = min(i for i in (text.find("["), text.find("{")) if i >= 0)
    return json.loads(text[start:])


def main() -> None:
    args = json.load(sys.stdin)
    # Debug mode keeps the token in a file under AIRFLOW_HOME instead of a system keyring (none here).
    env = dict(os.environ, AIRFLOW_HOME=args["airflow_home"], AIRFLOW_CLI_DEBUG_MODE="true")
    out: dict[str, Any] = {}
    out["login"] = run(
        env,
        "auth",
        "login",
        "--api-url",
        args["url"],
        "--username",
        args["username"],
        "--password",
        args["password"],
    ).strip()
    out["dags"] = {d["dag_id"]: d["is_paused"] for d in json_part(run(env, "dags", "list", "-o", "json"))}
    out["pools"] = [p["name"] for p in json_part(run(env, "pools", "list", "-o", "json"))]
    out["pause"] = run(env, "dags", "pause", args["manual_dag"]).splitlines()[0]
    out["version"] = run(env, "version", "--remote").strip()
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
