"""Run inside a virtual environment holding Apache Airflow (never Tradewind): parse each connection case
read as JSON on stdin with Airflow's Connection and answer with its fields and URI as JSON."""

from __future__ import annotations

import json
import os
import sys
import tempfile

os.environ.setdefault("AIRFLOW_HOME", tempfile.mkdtemp(prefix="airflow-oracle-"))
# Airflow logs warnings to stdout: the answer alone goes to the real one, everything else to stderr.
out = os.fdopen(os.dup(1), "w")
os.dup2(2, 1)

from airflow.models.connection import Connection  # noqa: E402  (after the stdout switch)

FIELDS = ("conn_type", "description", "host", "login", "password", "schema", "port", "extra")


def describe(conn: Connection) -> dict:
    values = {f: getattr(conn, f) for f in FIELDS}
    values["extra_dejson"] = conn.extra_dejson
    values["uri"] = conn.get_uri()
    return values


def attempt(build) -> dict:
    try:
        return describe(build())
    except Exception as exc:
        return {"error": type(exc).__name__}


def main() -> None:
    cases = json.load(sys.stdin)
    answer = {
        "uris": [attempt(lambda u=u: Connection(conn_id="c", uri=u)) for u in cases["uris"]],
        "jsons": [
            attempt(lambda j=j: Connection.from_json(json.dumps(j), conn_id="c")) for j in cases["jsons"]
        ],
        "fields": [],
    }
    for fields in cases["fields"]:
        built = attempt(lambda f=fields: Connection(conn_id="c", **f))
        if "uri" in built:
            built["reparsed"] = attempt(lambda u=built["uri"]: Connection(conn_id="c", uri=u))
        answer["fields"].append(built)
    json.dump(answer, out)
    out.flush()


main()
