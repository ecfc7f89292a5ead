"""A user's own hook (docs/connections.md, "Writing your own hook"): defined in a DAG file with Airflow's
names, it is found by its conn_type, built for a connection of that type, shapes the UI form, and is tested
through the same path as `tradewind connections test`."""

from __future__ import annotations

from pathlib import Path

import pytest

from tradewind.api.ui.connection_form import form_spec
from tradewind.config.settings import Settings
from tradewind.sdk.connection import Connection
from tradewind.sdk.hook_registry import hook_class_for, known_conn_types
from tradewind.sdk.loading import load_dags_from_file
from tradewind.sdk.runtime import InMemoryRuntime, use_runtime
from tradewind.secrets.connection_check import check_connection

DAG_FILE = """
from airflow.hooks.base import BaseHook
from airflow import DAG
from airflow.operators.python import PythonOperator


class InventoryHook(BaseHook):
    conn_name_attr = "inventory_conn_id"
    default_conn_name = "inventory_default"
    conn_type = "tw_inventory"
    hook_name = "Inventory"

    def __init__(self, inventory_conn_id=default_conn_name, **kwargs):
        super().__init__(**kwargs)
        self.inventory_conn_id = inventory_conn_id

    def get_conn(self):
        conn = self.get_connection(self.inventory_conn_id)
        return {"url": f"https://{conn.host}:{conn.port}", "token": conn.password,
                "warehouse": conn.extra_dejson.get("warehouse")}

    def test_connection(self):
        client = self.get_conn()
        return (client["token"] is not None, f"reached {client['url']}")

    @classmethod
    def get_connection_form_widgets(cls):
        return {"warehouse": {"label": "Warehouse", "type": "string", "placeholder": "main"}}

    @classmethod
    def get_ui_field_behaviour(cls):
        return {"hidden_fields": ["schema"], "relabeling": {"password": "API token"}, "placeholders": {}}


with DAG("inventory_sync", schedule=None) as dag:
    PythonOperator(task_id="count", python_callable=lambda: InventoryHook().get_conn())
"""


@pytest.fixture
def hook_file(tmp_path: Path) -> Path:
    path = tmp_path / "inventory_dag.py"
    path.write_text(DAG_FILE)
    return path


def test_a_hook_defined_in_a_dag_file_is_found_by_its_conn_type(
    hook_file: Path, airflow_names: Settings
) -> None:
    loaded = load_dags_from_file(hook_file)
    assert not loaded.errors and [d.dag_id for d in loaded.dags] == ["inventory_sync"]
    hook_class = hook_class_for("tw_inventory", conn_id="inv")
    assert hook_class.__name__ == "InventoryHook" and "tw_inventory" in known_conn_types()

    connection = Connection("inv", uri="tw-inventory://:s3cr3t@stock.local:8443?warehouse=north")
    assert connection.conn_type == "tw_inventory"
    runtime = InMemoryRuntime()
    runtime.connections["inv"] = connection.to_dict()
    with use_runtime(runtime):
        hook = connection.get_hook()
        assert hook.get_conn() == {"url": "https://stock.local:8443", "token": "s3cr3t", "warehouse": "north"}
    assert check_connection(connection).ok is True
    assert check_connection(connection).message == "reached https://stock.local:8443"

    spec = form_spec("tw_inventory")
    assert (
        spec.hook_name == "Inventory" and "schema" not in spec.shown and spec.label("password") == "API token"
    )
    assert [(w.name, w.label, w.placeholder) for w in spec.widgets] == [("warehouse", "Warehouse", "main")]
