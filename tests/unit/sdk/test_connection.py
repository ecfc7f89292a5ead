"""Connections as task code sees them: the URI and JSON forms, errors that name the connection and the field
but never the secret, the lookup order (environment, then the task runtime), hooks and templates."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from datetime import datetime

import pytest

from tests.unit.sdk.conftest import run_task
from tradewind import DAG, PythonOperator
from tradewind.sdk.connection import Connection, honour_airflow_env_names
from tradewind.sdk.errors import ConnectionFieldError, NotFoundError
from tradewind.sdk.hooks import BaseHook
from tradewind.sdk.runtime import InMemoryRuntime

SECRET = "pa55-w0rd-never-shown"


@pytest.fixture(autouse=True)
def no_connection_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in [n for n in os.environ if n.startswith(("TRADEWIND_CONN_", "AIRFLOW_CONN_"))]:
        monkeypatch.delenv(name)
    yield
    honour_airflow_env_names(True)


def test_uri_form_round_trip() -> None:
    conn = Connection("db", uri=f"postgresql://app%40corp:{SECRET}@DB.example.com:5432/sales?sslmode=require")
    assert (conn.conn_type, conn.host, conn.login, conn.password, conn.port, conn.schema) == (
        "postgres", "db.example.com", "app@corp", SECRET, 5432, "sales"
    )  # fmt: skip
    assert conn.extra_dejson == {"sslmode": "require"}
    assert Connection("db", uri=conn.get_uri()) == conn
    assert repr(conn) == "db" and SECRET not in repr(conn)


def test_json_form_and_as_json() -> None:
    text = json.dumps({"conn_type": "my-api", "host": "h", "port": "8080", "extra": {"timeout": 5}})
    conn = Connection.from_json(text, conn_id="api")
    assert (conn.conn_type, conn.port, conn.extra_dejson) == ("my_api", 8080, {"timeout": 5})
    assert json.loads(conn.as_json()) == {
        "conn_type": "my_api",
        "host": "h",
        "port": 8080,
        "extra": {"timeout": 5},
    }
    assert Connection.parse(conn.as_json(), "api") == conn


def test_nested_extra() -> None:
    conn = Connection("x", conn_type="t", extra={"a": '{"b": 1}', "c": "text"})
    assert conn.get_extra_dejson(nested=True) == {"a": {"b": 1}, "c": "text"}
    assert conn.extra_dejson == {"a": '{"b": 1}', "c": "text"}


@pytest.mark.parametrize(
    ("build", "field"),
    [
        (lambda: Connection("bad_port", uri=f"postgres://u:{SECRET}@h:99999/db"), "port"),
        (lambda: Connection("bad_port", uri=f"postgres://u:{SECRET}@h:abc/db"), "port"),
        (lambda: Connection("three", uri=f"a://b://c://u:{SECRET}@h"), "uri"),
        (lambda: Connection.from_json('{"password": "' + SECRET + '", ', "broken"), "json"),
        (lambda: Connection.from_json(json.dumps({"password": SECRET, "port": "x"}), "p"), "port"),
        (lambda: Connection.from_json(json.dumps({"password": SECRET, "passwd": "y"}), "typo"), "passwd"),
        (lambda: Connection("ex", conn_type="t", password=SECRET, extra="[1]"), "extra"),
        (lambda: Connection("ex", conn_type="t", password=SECRET, extra="{not json"), "extra"),
    ],
)
def test_bad_input_names_the_connection_and_field_never_the_secret(build, field) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ConnectionFieldError) as info:
        build()
    assert info.value.field == field
    assert repr(info.value.conn_id) in str(info.value)
    assert SECRET not in str(info.value)
    assert info.value.__cause__ is None or SECRET not in str(info.value.__cause__)


def test_lookup_environment_first_then_runtime(
    runtime: InMemoryRuntime, monkeypatch: pytest.MonkeyPatch
) -> None:
    runtime.connections["db"] = {"conn_type": "postgres", "host": "stored", "extra": {"a": 1}}
    assert BaseHook.get_connection("db").host == "stored"
    assert BaseHook.get_connection("db").extra_dejson == {"a": 1}
    monkeypatch.setenv("TRADEWIND_CONN_DB", "postgres://env-host/x")
    assert BaseHook.get_connection("db").host == "env-host"
    assert Connection.get_connection_from_secrets("db").host == "env-host"
    monkeypatch.setenv("TRADEWIND_CONN_JSONFORM", '{"conn_type": "http", "host": "j"}')
    assert Connection.get("jsonform").host == "j"


def test_airflow_env_names_follow_the_compat_switch(
    runtime: InMemoryRuntime, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_LEGACY", "http://legacy-host")
    honour_airflow_env_names(True)
    assert Connection.get("legacy").host == "legacy-host"
    honour_airflow_env_names(False)
    with pytest.raises(NotFoundError, match="connection 'legacy' is not defined") as info:
        Connection.get("legacy")
    assert info.value.ident == "legacy"


def test_hook_registered_by_conn_type(runtime: InMemoryRuntime) -> None:
    class ThingHook(BaseHook):
        conn_name_attr = "thing_conn_id"
        default_conn_name = "thing_default"
        conn_type = "thing_for_test"
        hook_name = "Thing"

        def __init__(self, thing_conn_id: str = default_conn_name, flavour: str = "plain") -> None:
            super().__init__()
            self.thing_conn_id = thing_conn_id
            self.flavour = flavour

        def get_conn(self) -> str:
            return self.get_connection(self.thing_conn_id).host or ""

    runtime.connections["t1"] = {"conn_type": "thing_for_test", "host": "thing-host"}
    hook = BaseHook.get_hook("t1", hook_params={"flavour": "spicy"})
    assert isinstance(hook, ThingHook)
    assert (hook.thing_conn_id, hook.flavour, hook.get_conn()) == ("t1", "spicy", "thing-host")
    runtime.connections["t2"] = {"conn_type": "unheard_of"}
    with pytest.raises(NotFoundError, match="connection 't2': no hook is known for conn_type 'unheard_of'"):
        BaseHook.get_hook("t2")


def test_conn_in_templates(runtime: InMemoryRuntime) -> None:
    runtime.connections["my_db"] = {"conn_type": "postgres", "host": "db.internal", "login": "app"}
    with DAG("conn_templates", schedule=None, start_date=datetime(2024, 1, 1)):
        task = PythonOperator(
            task_id="show",
            python_callable=lambda where, fallback: f"{where} {fallback}",
            op_args=["{{ conn.my_db.host }}:{{ conn.my_db.login }}", "{{ conn.get('missing', 'none') }}"],
        )
    assert run_task(task, runtime) == "db.internal:app none"
