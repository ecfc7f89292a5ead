"""`dags check-airflow`: unsupported names and arguments found by reading files, never running them."""

from __future__ import annotations

import json
import subprocess
import textwrap
from pathlib import Path

from tests.warm_cli import TRADEWIND
from tradewind.compat.airflow.migration_report import Finding, check_source

SUPPORTED = """
import pendulum
from airflow import DAG
from airflow.providers.standard.operators.bash import BashOperator
from airflow.operators.python import PythonOperator
import airflow.utils.trigger_rule
with DAG("ok", schedule="@daily", start_date=pendulum.datetime(2024, 1, 1), catchup=False) as dag:
    BashOperator(task_id="b", bash_command="echo hi", retries=2,
                 trigger_rule=airflow.utils.trigger_rule.TriggerRule.ALL_DONE)
"""

UNSUPPORTED = """
from airflow.sdk import DAG, AssetAccessControl
from airflow.providers.amazon.aws.operators.s3 import S3CreateBucketOperator
from airflow.operators.bash import BashOperator
import airflow.operators.bash as bash_ops
import airflow
raise SystemExit("never run")
with DAG("bad", schedule=None):
    BashOperator(task_id="b", bash_command="echo", not_an_argument=1)
    bash_ops.BashOperator(task_id="c", bash_command="echo", colour="red")
    airflow.models.XCom.get_one(key="k")
"""


def _names(findings: list[Finding]) -> list[tuple[int, str]]:
    return [(f.line, f.name) for f in findings]


def test_supported_file_has_no_findings() -> None:
    assert check_source(textwrap.dedent(SUPPORTED), "ok.py") == []


def test_unsupported_names_arguments_and_attribute_uses_per_line() -> None:
    findings = check_source(textwrap.dedent(UNSUPPORTED), "bad.py")
    assert _names(findings) == [
        (2, "airflow.sdk.AssetAccessControl"),
        (3, "airflow.providers.amazon.aws.operators.s3"),
        (9, "BashOperator(not_an_argument=...)"),
        (10, "BashOperator(colour=...)"),
        (11, "airflow.models.XCom"),
    ]
    assert findings[0].reason == "not supported by Tradewind yet (asset access controls come in a later release)"
    assert findings[2].reason == "argument not supported by Tradewind's BashOperator"
    assert {f.file for f in findings} == {"bad.py"}


def test_airflow_2_dag_arguments_are_reported_for_the_class_and_the_decorator() -> None:
    source = """
from airflow import DAG
from airflow.decorators import dag
with DAG("x", sla_miss_callback=print):
    pass
@dag(sla_miss_callback=None, catchup=False)
def pipeline():
    pass
"""
    findings = check_source(source, "airflow2.py")
    assert _names(findings) == [(4, "DAG(sla_miss_callback=...)"), (6, "dag(sla_miss_callback=...)")]
    assert findings[1].reason == "argument not supported by Tradewind's DAG"


def test_syntax_error_is_a_finding() -> None:
    assert check_source("from airflow import DAG\ndef broken(:\n", "broken.py")[0].reason.startswith(
        "syntax error"
    )


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [TRADEWIND, "dags", "check-airflow", *args], capture_output=True, text=True, timeout=120
    )


def test_cli_text_json_and_exit_codes(tmp_path: Path) -> None:
    (tmp_path / "ok.py").write_text(textwrap.dedent(SUPPORTED))
    bad = tmp_path / "sub" / "bad.py"
    bad.parent.mkdir()
    bad.write_text(textwrap.dedent(UNSUPPORTED))

    ok = _run(str(tmp_path / "ok.py"))
    assert ok.returncode == 0 and ok.stdout == ""
    assert "1 files checked: everything is supported" in ok.stderr

    text = _run(str(tmp_path))
    assert text.returncode == 1
    assert f"{bad}:3: airflow.providers.amazon.aws.operators.s3: not supported by Tradewind\n" in text.stdout
    assert "2 files checked: 5 unsupported in 1 files" in text.stderr

    as_json = _run(str(tmp_path), "-o", "json")
    assert as_json.returncode == 1
    rows = json.loads(as_json.stdout)
    assert rows[1] == {
        "file": str(bad), "line": 3, "name": "airflow.providers.amazon.aws.operators.s3",
        "reason": "not supported by Tradewind",
    }  # fmt: skip
    assert len(rows) == 5

    missing = _run(str(tmp_path / "nope.py"))
    assert missing.returncode == 1 and "nope.py" in missing.stderr
