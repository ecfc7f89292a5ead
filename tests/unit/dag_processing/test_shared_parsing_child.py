"""Several DAG files parsed by one child: a file that hangs, crashes or leaves state behind costs only itself,
and every other file comes back as if it had been parsed alone."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.unit.dag_processing.corpus import fixture_path, marked_line
from tradewind.dag_processing.discovery import DagFileRef
from tradewind.dag_processing.isolated_import import ParsedFile, parse_file, parse_files

GOOD = """
from datetime import datetime
from tradewind import DAG, EmptyOperator

with DAG({dag_id!r}, start_date=datetime(2024, 1, 1), schedule=None):
    EmptyOperator(task_id="only")
"""

#: Leave behind what a DAG file can easily change in its interpreter: its process state and helper modules...
LEAKS_STATE = """
import os, sys
from datetime import datetime
from tradewind import DAG
import registry

registry.SEEN.append("leaky")
os.environ["TW_TEST_LEAK"] = "leaked"
os.chdir("/")
sys.path.insert(0, "/nowhere")
DAG("left_open", start_date=datetime(2024, 1, 1), schedule=None).__enter__()
"""
#: ... or the authoring API itself.
PATCHES_THE_SDK = """
import tradewind

tradewind.EmptyOperator.ui_color = "#000000"
tradewind.DAG = None
"""

#: A DAG that shows what it sees of that state.
VICTIM = """
import os, sys
from datetime import datetime
from tradewind import DAG, EmptyOperator
import registry

registry.SEEN.append("victim")
with DAG(
    "victim",
    start_date=datetime(2024, 1, 1),
    schedule=None,
    description=f"{os.environ.get('TW_TEST_LEAK', 'clean')} {os.getcwd() == '/'} {'/nowhere' in sys.path}",
    tags=list(registry.SEEN),
):
    EmptyOperator(task_id="inside")
outside = EmptyOperator(task_id="outside_any_dag")
"""

SLEEPS = "import time\ntime.sleep(600)\n" + GOOD.format(dag_id="never")


def _refs(folder: Path, files: dict[str, str]) -> list[DagFileRef]:
    refs = []
    for name, body in files.items():
        path = folder / f"{name}.py"
        path.write_text(body)
        refs.append(DagFileRef(path, path.name))
    return refs


def _dag_ids(parsed: ParsedFile) -> list[str]:
    return sorted(d.dag_id for d in parsed.dags)


def test_a_file_that_hangs_in_a_shared_child_times_out_alone(tmp_path: Path) -> None:
    refs = _refs(
        tmp_path, {"first": GOOD.format(dag_id="first"), "hangs": SLEEPS, "last": GOOD.format(dag_id="last")}
    )

    first, hangs, last = parse_files(refs, timeout=2.0, processes=1)

    assert (_dag_ids(first), first.errors) == (["first"], [])
    assert [e.message for e in hangs.errors] == ["parsing timed out after 2 s"]
    assert hangs.dags == []
    assert (_dag_ids(last), last.errors) == (["last"], [])


def test_a_file_that_ends_a_shared_child_is_reported_as_if_parsed_alone(tmp_path: Path) -> None:
    segfault = fixture_path("broken_segfault.py")
    os_exit = fixture_path("broken_os_exit.py")
    refs = [
        *_refs(tmp_path, {"first": GOOD.format(dag_id="first")}),
        DagFileRef(segfault, segfault.name),
        DagFileRef(os_exit, os_exit.name),
        *_refs(tmp_path, {"last": GOOD.format(dag_id="last")}),
    ]

    first, crashed, exited, last = parse_files(refs, timeout=20.0, processes=1)

    assert (_dag_ids(first), first.errors) == (["first"], [])
    assert "SIGSEGV" in crashed.errors[0].message
    assert crashed.errors[0].lineno == marked_line("broken_segfault.py")
    assert "exited with code 4" in exited.errors[0].message
    assert (_dag_ids(last), last.errors) == (["last"], [])


@pytest.mark.parametrize("leak", [LEAKS_STATE, PATCHES_THE_SDK], ids=["process-state", "sdk-patch"])
def test_what_a_file_leaves_behind_does_not_reach_the_next_file_in_its_child(
    tmp_path: Path, leak: str
) -> None:
    (tmp_path / "registry.py").write_text("SEEN = []\n")
    leaky, victim = _refs(tmp_path, {"leaky": leak, "victim": VICTIM})
    alone = parse_file(victim, timeout=20.0)

    _, after_leak = parse_files([leaky, victim], timeout=20.0, processes=1)

    assert after_leak.errors == alone.errors == []
    [dag] = after_leak.dags
    assert dag.description == "clean False False"
    assert dag.tags == ["victim"]
    assert dag.content_hash() == alone.dags[0].content_hash()


def test_a_helper_module_is_imported_afresh_for_each_file(tmp_path: Path) -> None:
    helper = tmp_path / "helper_value.py"
    helper.write_text("VALUE = 'one'\n")
    uses_helper = GOOD.replace("schedule=None", "schedule=None, description=helper_value.VALUE")
    refs = _refs(
        tmp_path,
        {
            "a": "import helper_value\n" + uses_helper.format(dag_id="a"),
            # Rewrites the helper while the child is parsing: the next file must see the new text.
            "b": f"open({str(helper)!r}, 'w').write(\"VALUE = 'two!'\\n\")\n" + GOOD.format(dag_id="b"),
            "c": "import helper_value\n" + uses_helper.format(dag_id="c"),
        },
    )

    a, _b, c = parse_files(refs, timeout=20.0, processes=1)

    assert [d.description for d in a.dags] == ["one"]
    assert [d.description for d in c.dags] == ["two!"]
