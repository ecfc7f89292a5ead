"""DAG bodies exercising setup/teardown tasks, edge labels and display names, for the authoring comparison
with Airflow. Each body defines ``dag`` using only the names both sides provide: DAG, Op (a do-nothing
operator), Label, TaskGroup, chain, setup, task, task_group, teardown."""

from __future__ import annotations

CASES: dict[str, str] = {
    "as_teardown_with_setups": """
with DAG("c1") as dag:
    make, load, drop = Op(task_id="make"), Op(task_id="load"), Op(task_id="drop")
    make >> load >> drop.as_teardown(setups=make)
""",
    "two_setups_one_teardown_fails_run": """
with DAG("c2") as dag:
    s1, s2 = Op(task_id="s1").as_setup(), Op(task_id="s2").as_setup()
    w1, w2 = Op(task_id="w1"), Op(task_id="w2")
    td = Op(task_id="td")
    [s1, s2] >> w1 >> w2 >> td.as_teardown(setups=[s1, s2], on_failure_fail_dagrun=True)
    w2 >> Op(task_id="after")
""",
    "decorators_in_with_block": """
with DAG("c3") as dag:
    @setup
    def create():
        return "id"

    @teardown
    def delete(x):
        pass

    @task
    def work():
        pass

    @task
    def more():
        pass

    made = create()
    with made >> delete(made):
        work() >> more()
    Op(task_id="outside")
""",
    "nested_blocks_and_group": """
with DAG("c4") as dag:
    @setup
    def outer_make():
        return 1

    @teardown(on_failure_fail_dagrun=True)
    def outer_drop(x):
        pass

    @task
    def outer_work():
        pass

    @task_group
    def section():
        @setup
        def inner_make():
            return 2

        @task
        def inner_work(x):
            pass

        @teardown
        def inner_drop(x):
            pass

        made = inner_make()
        inner_work(made) >> inner_drop(made)

    with outer_drop(outer_make()):
        outer_work()
        section()
""",
    "setup_block_finds_its_teardown": """
with DAG("c5") as dag:
    make = Op(task_id="make").as_setup()
    drop = Op(task_id="drop").as_teardown(setups=make)
    with make:
        a = Op(task_id="a")
        b = Op(task_id="b")
        a >> b
""",
    "teardown_inside_group_then_next": """
with DAG("c6") as dag:
    with TaskGroup("grp") as grp:
        make = Op(task_id="make")
        work = Op(task_id="work")
        drop = Op(task_id="drop")
        make >> work >> drop.as_teardown(setups=make)
    grp >> Op(task_id="next")
""",
    "chain_of_setups_and_work": """
with DAG("c7") as dag:
    s1 = Op(task_id="s1").as_setup()
    s2 = Op(task_id="s2").as_setup()
    w = Op(task_id="w")
    t2 = Op(task_id="t2").as_teardown(setups=s2)
    t1 = Op(task_id="t1").as_teardown(setups=s1)
    s1 >> s2 >> w >> t2 >> t1
    w >> Op(task_id="report")
""",
    "labels": """
with DAG("c8", dag_display_name="Labels ✓") as dag:
    start = Op(task_id="start", task_display_name="Begin")
    left, right, end = Op(task_id="left"), Op(task_id="right"), Op(task_id="end")
    start >> Label("go left") >> left
    start >> Label("go right") >> right
    [left, right] >> Label("done") >> end
""",
    "labels_in_chain": """
with DAG("c9") as dag:
    a, b, c, d = (Op(task_id=i) for i in "abcd")
    chain(a, [Label("x"), Label("y")], [b, c], d)
""",
    "setup_followed_by_non_all_success_is_refused": """
with DAG("c10") as dag:
    make = Op(task_id="make").as_setup()
    make >> Op(task_id="w", trigger_rule="all_done")
dag.validate()
""",
}
