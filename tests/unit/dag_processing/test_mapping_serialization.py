"""What the stored DAG says about expand_kwargs, map/zip/concat and mapped task groups."""

from __future__ import annotations

from tradewind.core.serialized_dag import SerializedDag
from tradewind.dag_processing.serialization import serialize_dag
from tradewind.sdk.dag import DAG
from tradewind.sdk.decorators import task
from tradewind.sdk.taskgroup import task_group


@task
def numbers() -> list[int]:
    return [1, 2]


@task
def show(x: object) -> object:
    return x


def test_transforms_kwargs_and_mapped_groups_are_stored() -> None:
    @task_group
    def per(x: int) -> None:
        show(x)

    with DAG("d") as dag:
        nums = numbers()
        show.override(task_id="zipped").expand(x=nums.map(str).zip(nums, fillvalue=0))
        show.override(task_id="kw").expand_kwargs([{"x": 1}, {"x": 2}])
        per.expand(x=nums.concat(nums))
    stored = SerializedDag.from_json(serialize_dag(dag, fileloc="/d.py", relative_fileloc="d.py").to_json())
    zipped = stored.get_task("zipped").expand
    assert zipped is not None
    arg = zipped["x"]
    assert (arg.kind, arg.has_fillvalue, arg.fillvalue) == ("zip", True, 0)
    assert arg.args is not None and [a.kind for a in arg.args] == ["map", "xcom"]
    kw = stored.get_task("kw")
    assert kw.expand_kwargs and kw.expand is not None and kw.expand["kwargs"].value == [{"x": 1}, {"x": 2}]
    inner = stored.get_task("per.show")
    assert inner.mapped_group == "per" and inner.is_mapped and inner.expand is None
    assert inner.upstream == ["numbers"]
    group = stored.task_groups["per"]
    assert group.expand is not None and group.expand["x"].kind == "concat" and not group.expand_kwargs
