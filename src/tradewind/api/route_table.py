"""The routes the webserver serves beyond its first ones (``app.create_core_app``): the REST APIs, the task
execution API and the UI's pages, in the order they are matched. Their modules are most of the webserver's
import time, which is why the server may import this module after it already answers."""

from __future__ import annotations

from fastapi import FastAPI

from tradewind.api import metrics_endpoint as metrics
from tradewind.api.auth import token_routes as auth_token
from tradewind.api.context import AppContext
from tradewind.api.execution import routes as execution_routes
from tradewind.api.execution.app import PREFIX as EXECUTION_PREFIX
from tradewind.api.execution.app import execution_context
from tradewind.api.rest.v1 import connections as api_connections
from tradewind.api.rest.v1 import dags as api_dags
from tradewind.api.rest.v1 import datasets as api_datasets
from tradewind.api.rest.v1 import docs as api_docs
from tradewind.api.rest.v1 import extra_links as api_extra_links
from tradewind.api.rest.v1 import resources as api_resources
from tradewind.api.rest.v1 import runs as api_runs
from tradewind.api.rest.v1 import task_instances as api_task_instances
from tradewind.api.rest.v2 import assets as v2_assets
from tradewind.api.rest.v2 import connections as v2_connections
from tradewind.api.rest.v2 import dag_runs as v2_dag_runs
from tradewind.api.rest.v2 import dags as v2_dags
from tradewind.api.rest.v2 import resources as v2_resources
from tradewind.api.rest.v2 import task_instances as v2_task_instances
from tradewind.api.ui.routes import actions as ui_actions
from tradewind.api.ui.routes import admin as ui_admin
from tradewind.api.ui.routes import assets as ui_assets
from tradewind.api.ui.routes import charts as ui_charts
from tradewind.api.ui.routes import config as ui_config
from tradewind.api.ui.routes import connections as ui_connections
from tradewind.api.ui.routes import dag as ui_dag
from tradewind.api.ui.routes import dags as ui_dags
from tradewind.api.ui.routes import live as ui_live
from tradewind.api.ui.routes import preferences as ui_preferences
from tradewind.api.ui.routes import task as ui_task
from tradewind.api.ui.routes import trigger as ui_trigger
from tradewind.api.ui.routes import users as ui_users
from tradewind.api.ui.routes import xcoms as ui_xcoms

API_PREFIX = "/api/v1"
#: Airflow 3's public API shapes, for apache-airflow-client 3.x and airflowctl.
API_V2_PREFIX = "/api/v2"


def include_routes(app: FastAPI) -> None:
    """Add the routes to ``app`` (built by ``create_core_app``, its context in ``app.state.ctx``)."""
    ctx: AppContext = app.state.ctx
    for module in (
        api_dags,
        api_runs,
        api_task_instances,
        api_extra_links,
        api_resources,
        api_connections,
        api_datasets,
        api_docs,
    ):
        app.include_router(module.router, prefix=API_PREFIX)
    for module in (v2_dags, v2_dag_runs, v2_task_instances, v2_resources, v2_connections, v2_assets):
        app.include_router(module.router, prefix=API_V2_PREFIX)
    app.include_router(api_extra_links.router_v2, prefix=API_V2_PREFIX)
    app.include_router(auth_token.router, prefix="/auth")
    # The task execution API: task tokens, not user logins (api/execution).
    app.state.execution = execution_context(ctx.settings, ctx.write_factory, ctx.read_factory)
    app.include_router(execution_routes.router, prefix=EXECUTION_PREFIX)
    for module in (
        ui_dags,
        ui_dag,
        ui_trigger,
        ui_actions,
        ui_task,
        ui_admin,
        ui_connections,
        ui_assets,
        ui_live,
        ui_charts,
        ui_users,
        ui_xcoms,
        ui_config,
        ui_preferences,
        metrics,
    ):
        app.include_router(module.router)
