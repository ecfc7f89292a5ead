"""XCom: JSON values pushed and pulled by tasks, including mapped tasks."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from tradewind.sdk.errors import TradewindError
from tradewind.store.xcom import delete_xcoms, get_xcom, list_xcoms, set_xcom, xcom_value

RUN = {"dag_id": "etl", "run_id": "r1"}


def test_set_replaces_and_get_returns_the_value(session: Session) -> None:
    set_xcom(session=session, **RUN, task_id="a", value={"rows": [1, 2], "ok": True})
    assert get_xcom(session=session, **RUN, task_id="a") == {"rows": [1, 2], "ok": True}
    set_xcom(session=session, **RUN, task_id="a", value="second")
    assert get_xcom(session=session, **RUN, task_id="a") == "second"
    set_xcom(session=session, **RUN, task_id="a", key="path", value="/tmp/x")
    assert get_xcom(session=session, **RUN, task_id="a", key="path") == "/tmp/x"
    assert get_xcom(session=session, **RUN, task_id="missing") is None
    assert get_xcom(session=session, **RUN, task_id="missing", default=0) == 0
    # None is a value too, told apart from "absent" by the default.
    set_xcom(session=session, **RUN, task_id="b", value=None)
    assert get_xcom(session=session, **RUN, task_id="b", default="absent") is None


def test_values_that_are_not_json_are_refused_naming_task_and_key(session: Session) -> None:
    with pytest.raises(TradewindError, match=r"'out' of task 'a'.*set"):
        set_xcom(session=session, **RUN, task_id="a", key="out", value={1, 2})
    with pytest.raises(TradewindError, match="'return_value' of task 'a'"):
        set_xcom(session=session, **RUN, task_id="a", value=float("nan"))


def test_mapped_values_come_back_in_map_index_order(session: Session) -> None:
    for index in (2, 0, 10, 1):
        set_xcom(session=session, **RUN, task_id="m", map_index=index, value=index * 10)
    assert get_xcom(session=session, **RUN, task_id="m", map_index=None) == [0, 10, 20, 100]
    assert get_xcom(session=session, **RUN, task_id="m", map_index=10) == 100
    set_xcom(session=session, **RUN, task_id="plain", value="one")
    assert get_xcom(session=session, **RUN, task_id="plain", map_index=None) == "one"
    assert get_xcom(session=session, **RUN, task_id="nothing", map_index=None, default=[]) == []


def test_list_and_delete(session: Session) -> None:
    set_xcom(session=session, **RUN, task_id="b", value=2)
    set_xcom(session=session, **RUN, task_id="a", key="z", value=1)
    set_xcom(session=session, **RUN, task_id="a", value=0)
    set_xcom(session=session, **RUN, task_id="m", map_index=1, value=1)
    set_xcom(session=session, **RUN, task_id="m", map_index=0, value=0)
    set_xcom(session=session, dag_id="etl", run_id="r2", task_id="a", value=9)
    rows, total = list_xcoms(session=session, **RUN)
    assert total == 5
    assert [(r.task_id, r.map_index, r.key, xcom_value(r)) for r in rows] == [
        ("a", -1, "return_value", 0),
        ("a", -1, "z", 1),
        ("b", -1, "return_value", 2),
        ("m", 0, "return_value", 0),
        ("m", 1, "return_value", 1),
    ]
    rows, total = list_xcoms(session=session, **RUN, task_id="m", map_index=1)
    assert (len(rows), total) == (1, 1)
    rows, total = list_xcoms(session=session, **RUN, limit=2, offset=2)
    assert ([r.task_id for r in rows], total) == (["b", "m"], 5)
    assert delete_xcoms(session=session, **RUN, task_ids=["m"], map_index=0) == 1
    assert delete_xcoms(session=session, **RUN, task_ids=["a", "m"]) == 3
    assert [r.task_id for r in list_xcoms(session=session, **RUN)[0]] == ["b"]
    assert delete_xcoms(session=session, **RUN) == 1
    assert get_xcom(session=session, dag_id="etl", run_id="r2", task_id="a") == 9
