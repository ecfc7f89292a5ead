"""The one rule for what users may give when triggering a run, and log paths that never leave their folder."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from tradewind.core.keys import TaskInstanceKey
from tradewind.core.log_paths import dag_callback_log_path, task_log_path
from tradewind.core.run_inputs import (
    MAX_CONF_DEPTH,
    check_conf_depth,
    check_logical_date,
    check_run_id,
)
from tradewind.core.states import DagRunType
from tradewind.sdk.errors import RefusedInputError, UnsafePathError
from tradewind.store.dag_runs import make_run_id


@pytest.mark.parametrize(
    "run_id", ["nightly", "manual__2026-03-01T06:00:00+00:00", "a.b~c:d+e-f_g", "x" * 250]
)
def test_run_ids_airflow_allows_are_accepted(run_id: str) -> None:
    assert check_run_id(run_id) == run_id


@pytest.mark.parametrize("run_id", ["x/../../tmp/pwned", "a b", "nul\x00", "trailing\n", "x" * 251, ""])
def test_unsafe_run_ids_are_refused_naming_the_field(run_id: str) -> None:
    with pytest.raises(RefusedInputError, match="dag_run_id") as refused:
        check_run_id(run_id)
    assert refused.value.field == "dag_run_id"


def test_a_pattern_that_allows_control_characters_still_refuses_them() -> None:
    assert check_run_id("team/a", pattern=r"^.+$") == "team/a"
    with pytest.raises(RefusedInputError):
        check_run_id("team\x00a", pattern=r"^.+$")


@pytest.mark.parametrize(
    "when", [datetime(1, 1, 1, tzinfo=UTC), datetime(9999, 12, 31, tzinfo=UTC), datetime(1, 6, 1)]
)
def test_logical_dates_at_the_ends_of_the_calendar_are_refused(when: datetime) -> None:
    with pytest.raises(RefusedInputError, match="logical_date"):
        check_logical_date(when)


@pytest.mark.parametrize("run_type", list(DagRunType))
@pytest.mark.parametrize(
    "when", [datetime(2, 1, 1, tzinfo=UTC), datetime(9998, 12, 31, 23, 59, 59, tzinfo=UTC)]
)
def test_run_ids_tradewind_makes_pass_the_default_pattern(run_type: DagRunType, when: datetime) -> None:
    assert check_logical_date(when) == when
    check_run_id(make_run_id(run_type, when))


def test_conf_deeper_than_the_limit_is_refused_without_recursion() -> None:
    shallow: object = {}
    for _ in range(MAX_CONF_DEPTH - 1):
        shallow = {"a": shallow}
    check_conf_depth(shallow)
    deep: object = []
    for _ in range(200_000):  # far past Python's recursion limit
        deep = [deep]
    with pytest.raises(RefusedInputError, match="conf_json") as refused:
        check_conf_depth({"a": deep}, field="conf_json")
    assert refused.value.field == "conf_json"


def test_log_paths_built_from_hostile_ids_are_refused(tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    logs.mkdir()
    fine = task_log_path(logs, TaskInstanceKey("d", "r", "t"), 1)
    assert fine.is_relative_to(logs.resolve())
    for key in (
        TaskInstanceKey("d", "x/../../../../tmp/pwned", "t"),
        TaskInstanceKey("../../../etc", "r", "t"),
        TaskInstanceKey("d", "r", "/../../../../../t"),
    ):
        with pytest.raises(UnsafePathError):
            task_log_path(logs, key, 1)
    with pytest.raises(UnsafePathError):
        dag_callback_log_path(logs, "d", "x/../../../../tmp", "on_success_callback")


def test_a_symlink_out_of_the_log_folder_is_refused(tmp_path: Path) -> None:
    logs, elsewhere = tmp_path / "logs", tmp_path / "elsewhere"
    logs.mkdir()
    elsewhere.mkdir()
    (logs / "dag_id=d").symlink_to(elsewhere)
    with pytest.raises(UnsafePathError):
        task_log_path(logs, TaskInstanceKey("d", "r", "t"), 1)
