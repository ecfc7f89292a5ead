"""The one table of Airflow import names: Airflow module path -> {name: "tradewind.module:attribute"}.

A target is either ``"module:attribute"`` (a Tradewind object, imported only when a DAG file asks for the
name) or ``"airflow.some.module"`` (another module of this table, for a name that is a module in Airflow).
Targets are strings, so a Tradewind module that does not exist yet costs nothing until the name is used:
then it is reported as not supported. Every parent of a path here is served too, as an empty package.
"""

from __future__ import annotations

from collections.abc import Mapping

Names = Mapping[str, str]

_DAG = "tradewind.sdk.dag:DAG"
_BASE_OPERATOR = "tradewind.sdk.baseoperator:BaseOperator"
_CHAIN = {
    "chain": "tradewind.sdk.chain:chain",
    "chain_linear": "tradewind.sdk.chain:chain_linear",
    "cross_downstream": "tradewind.sdk.chain:cross_downstream",
}
_PARAMS = {"Param": "tradewind.sdk.params:Param", "ParamsDict": "tradewind.sdk.params:ParamsDict"}
_EDGES = {"Label": "tradewind.sdk.edges:Label", "EdgeModifier": "tradewind.sdk.edges:EdgeModifier"}
_DECORATORS = {
    "dag": "tradewind.sdk.decorators:dag",
    "task": "tradewind.sdk.decorators:task",
    "task_group": "tradewind.sdk.taskgroup:task_group",
    "setup": "tradewind.sdk.decorators:setup",
    "teardown": "tradewind.sdk.decorators:teardown",
}
_TASK_GROUP = {
    "TaskGroup": "tradewind.sdk.taskgroup:TaskGroup",
    "task_group": "tradewind.sdk.taskgroup:task_group",
}
_TRIGGER_RULE = {"TriggerRule": "tradewind.sdk.trigger_rule:TriggerRule"}
_CONTEXT = {
    "Context": "tradewind.sdk.context:Context",
    "get_current_context": "tradewind.sdk.context:get_current_context",
}
_STATES = {
    "TaskInstanceState": "tradewind.core.states:TaskInstanceState",
    "DagRunState": "tradewind.core.states:DagRunState",
}
#: The task instance a task's context holds (Airflow 2's model, Airflow 3's runtime one), for annotations.
_TASK_INSTANCE = {"TaskInstance": "tradewind.sdk.context:RuntimeTaskInstance"}
_OPERATOR_LINK = {"BaseOperatorLink": "tradewind.sdk.operator_links:BaseOperatorLink"}
_RETRY_POLICY = {
    "ExceptionRetryPolicy": "tradewind.sdk.retry_policy:ExceptionRetryPolicy",
    "RetryAction": "tradewind.sdk.retry_policy:RetryAction",
    "RetryDecision": "tradewind.sdk.retry_policy:RetryDecision",
    "RetryPolicy": "tradewind.sdk.retry_policy:RetryPolicy",
    "RetryRule": "tradewind.sdk.retry_policy:RetryRule",
}
_TASK_STATE = {
    "NEVER_EXPIRE": "tradewind.sdk.task_state:NEVER_EXPIRE",
    "TaskStateStoreAccessor": "tradewind.sdk.task_state:TaskStateStore",
}
_MACROS = {"ds_add": "tradewind.sdk.macros:ds_add", "ds_format": "tradewind.sdk.macros:ds_format"}

_TIMETABLES_BASE = {
    "Timetable": "tradewind.sdk.timetables.base:Timetable",
    "DagRunInfo": "tradewind.sdk.timetables.base:DagRunInfo",
    "DataInterval": "tradewind.sdk.timetables.base:DataInterval",
    "TimeRestriction": "tradewind.sdk.timetables.base:TimeRestriction",
}
_TIMETABLES_INTERVAL = {
    "CronDataIntervalTimetable": "tradewind.sdk.timetables.interval:CronDataIntervalTimetable",
    "DeltaDataIntervalTimetable": "tradewind.sdk.timetables.interval:DeltaDataIntervalTimetable",
}
_TIMETABLES_TRIGGER = {
    "CronTriggerTimetable": "tradewind.sdk.timetables.trigger:CronTriggerTimetable",
    "DeltaTriggerTimetable": "tradewind.sdk.timetables.trigger:DeltaTriggerTimetable",
    "MultipleCronTriggerTimetable": "tradewind.sdk.timetables.trigger:MultipleCronTriggerTimetable",
}
_TIMETABLES_SIMPLE = {
    "NullTimetable": "tradewind.sdk.timetables.simple:NullTimetable",
    "OnceTimetable": "tradewind.sdk.timetables.simple:OnceTimetable",
    "ContinuousTimetable": "tradewind.sdk.timetables.simple:ContinuousTimetable",
    "AssetTriggeredTimetable": "tradewind.sdk.timetables.assets:AssetTriggeredTimetable",
    "DatasetTriggeredTimetable": "tradewind.sdk.timetables.assets:AssetTriggeredTimetable",
}
_TIMETABLES_EVENTS = {"EventsTimetable": "tradewind.sdk.timetables.events:EventsTimetable"}

_ASSETS = {
    "Asset": "tradewind.sdk.assets:Asset",
    "AssetAlias": "tradewind.sdk.assets:AssetAlias",
    "AssetAll": "tradewind.sdk.assets:AssetAll",
    "AssetAny": "tradewind.sdk.assets:AssetAny",
    "Model": "tradewind.sdk.assets:Model",
    "Metadata": "tradewind.sdk.assets:Metadata",
    "AssetWatcher": "tradewind.sdk.assets:AssetWatcher",
}
_ASSET_DEFINITIONS = {
    **_ASSETS,
    "BaseAsset": "tradewind.sdk.assets:BaseAsset",
    "AssetRef": "tradewind.sdk.assets:AssetRef",
    "AssetNameRef": "tradewind.sdk.assets:AssetNameRef",
    "AssetUriRef": "tradewind.sdk.assets:AssetUriRef",
    "Dataset": "tradewind.sdk.assets:Dataset",
}
_ASSET_DECORATOR = {"asset": "tradewind.sdk.asset_decorator:asset"}
_ASSET_OR_TIME = {"AssetOrTimeSchedule": "tradewind.sdk.timetables.assets:AssetOrTimeSchedule"}
#: Airflow 2's names (``airflow.datasets``).
_DATASETS = {
    "Dataset": "tradewind.sdk.assets:Dataset",
    "DatasetAlias": "tradewind.sdk.assets:AssetAlias",
    "DatasetAll": "tradewind.sdk.assets:AssetAll",
    "DatasetAny": "tradewind.sdk.assets:AssetAny",
    "BaseDataset": "tradewind.sdk.assets:BaseAsset",
}

_BASH = {"BashOperator": "tradewind.sdk.operators.bash:BashOperator"}
_PYTHON = {
    "PythonOperator": "tradewind.sdk.operators.python:PythonOperator",
    "BranchPythonOperator": "tradewind.sdk.operators.branch:BranchPythonOperator",
    "ShortCircuitOperator": "tradewind.sdk.operators.branch:ShortCircuitOperator",
    "PythonVirtualenvOperator": "tradewind.sdk.operators.isolated_python:PythonVirtualenvOperator",
    "ExternalPythonOperator": "tradewind.sdk.operators.isolated_python:ExternalPythonOperator",
    "BranchPythonVirtualenvOperator": "tradewind.sdk.operators.isolated_python:BranchPythonVirtualenvOperator",
    "BranchExternalPythonOperator": "tradewind.sdk.operators.isolated_python:BranchExternalPythonOperator",
    "is_venv_installed": "tradewind.sdk.operators.isolated_python:is_venv_installed",
    "get_current_context": "tradewind.sdk.context:get_current_context",
}
_EMPTY = {"EmptyOperator": "tradewind.sdk.operators.empty:EmptyOperator"}
_DUMMY = {"DummyOperator": "tradewind.sdk.operators.empty:EmptyOperator", **_EMPTY}
_BRANCH = {
    "BranchPythonOperator": "tradewind.sdk.operators.branch:BranchPythonOperator",
    "BaseBranchOperator": "tradewind.sdk.operators.branch:BaseBranchOperator",
    "BranchMixIn": "tradewind.sdk.operators.branch:BranchMixin",
}
_LATEST_ONLY = {"LatestOnlyOperator": "tradewind.sdk.operators.latest_only:LatestOnlyOperator"}
_DATETIME = {"BranchDateTimeOperator": "tradewind.sdk.operators.datetime_branch:BranchDateTimeOperator"}
_WEEKDAY_BRANCH = {
    "BranchDayOfWeekOperator": "tradewind.sdk.operators.weekday_branch:BranchDayOfWeekOperator"
}
_TRIGGER_DAGRUN = {
    "TriggerDagRunOperator": "tradewind.sdk.operators.trigger_dagrun:TriggerDagRunOperator",
    "TriggerDagRunLink": "tradewind.sdk.operators.trigger_dagrun:TriggerDagRunLink",
}
_WEEKDAY = {"WeekDay": "tradewind.sdk.weekday:WeekDay"}

#: Airflow's sensor modules, mapped one to one onto ``tradewind.sdk.sensors`` (the sensors part builds them).
_SENSORS: dict[str, Names] = {
    "base": {
        "BaseSensorOperator": "tradewind.sdk.sensors.base:BaseSensorOperator",
        "PokeReturnValue": "tradewind.sdk.sensors.base:PokeReturnValue",
    },
    "bash": {"BashSensor": "tradewind.sdk.sensors.bash:BashSensor"},
    "python": {"PythonSensor": "tradewind.sdk.sensors.python:PythonSensor"},
    "filesystem": {"FileSensor": "tradewind.sdk.sensors.filesystem:FileSensor"},
    "time": {
        "TimeSensor": "tradewind.sdk.sensors.time:TimeSensor",
        "TimeSensorAsync": "tradewind.sdk.sensors.time:TimeSensorAsync",
    },
    "time_delta": {
        "TimeDeltaSensor": "tradewind.sdk.sensors.time_delta:TimeDeltaSensor",
        "TimeDeltaSensorAsync": "tradewind.sdk.sensors.time_delta:TimeDeltaSensorAsync",
    },
    "date_time": {
        "DateTimeSensor": "tradewind.sdk.sensors.date_time:DateTimeSensor",
        "DateTimeSensorAsync": "tradewind.sdk.sensors.date_time:DateTimeSensorAsync",
    },
    "weekday": {"DayOfWeekSensor": "tradewind.sdk.sensors.weekday:DayOfWeekSensor"},
    "external_task": {
        "ExternalTaskSensor": "tradewind.sdk.sensors.external_task:ExternalTaskSensor",
        "ExternalTaskMarker": "tradewind.sdk.sensors.external_task:ExternalTaskMarker",
    },
}

_EXCEPTIONS = {
    "AirflowException": "tradewind.sdk.errors:TradewindError",
    "AirflowSkipException": "tradewind.sdk.errors:TaskSkipped",
    "AirflowFailException": "tradewind.sdk.errors:TaskFailedNoRetry",
    "AirflowTaskTimeout": "tradewind.sdk.errors:TaskTimeoutError",
    "AirflowNotFoundException": "tradewind.sdk.errors:NotFoundError",
    "AirflowDagCycleException": "tradewind.sdk.errors:CycleError",
    "DuplicateTaskIdFound": "tradewind.sdk.errors:DuplicateTaskIdError",
    "ParamValidationError": "tradewind.sdk.errors:ParamValidationError",
    "AirflowConfigException": "tradewind.sdk.errors:ConfigError",
    "AirflowSensorTimeout": "tradewind.sdk.errors:SensorTimeout",
    "AirflowRescheduleException": "tradewind.sdk.errors:TaskRescheduled",
    "DagRunAlreadyExists": "tradewind.sdk.runtime:DagRunExists",
    "TaskDeferred": "tradewind.sdk.errors:TaskDeferred",
    "TaskDeferralError": "tradewind.sdk.errors:TaskDeferralError",
    "TaskDeferralTimeout": "tradewind.sdk.errors:TaskDeferralTimeout",
}
_TRIGGERS_BASE = {
    "BaseTrigger": "tradewind.sdk.triggers.base:BaseTrigger",
    "TriggerEvent": "tradewind.sdk.triggers.base:TriggerEvent",
    "BaseEventTrigger": "tradewind.sdk.triggers.base:BaseEventTrigger",
}
_TRIGGERS_TEMPORAL = {
    "DateTimeTrigger": "tradewind.sdk.triggers.temporal:DateTimeTrigger",
    "TimeDeltaTrigger": "tradewind.sdk.triggers.temporal:TimeDeltaTrigger",
}
_TRIGGERS_EXTERNAL = {
    "WorkflowTrigger": "tradewind.sdk.triggers.external_task:WorkflowTrigger",
    "DagStateTrigger": "tradewind.sdk.triggers.external_task:DagStateTrigger",
}
_TRIGGERS_FILE = {
    "FileTrigger": "tradewind.sdk.triggers.file:FileTrigger",
    "FileDeleteTrigger": "tradewind.sdk.triggers.file:FileDeleteTrigger",
    "DirectoryFileDeleteTrigger": "tradewind.sdk.triggers.file:DirectoryFileDeleteTrigger",
}

_TIMEZONE = {
    "utcnow": "tradewind.core.clock:utcnow",
    "datetime": "pendulum:datetime",
    "parse": "pendulum:parse",
    "utc": "pendulum:UTC",
}

_CONNECTION = {"Connection": "tradewind.sdk.connection:Connection"}
_BASE_HOOK = {"BaseHook": "tradewind.sdk.hooks.base:BaseHook"}
_SECRETS_BACKEND = {"BaseSecretsBackend": "tradewind.secrets.base:BaseSecretsBackend"}

_SQL_HOOK = "tradewind.providers.common.sql.hooks.sql"
_SQL_HANDLERS = {
    name: f"tradewind.providers.common.sql.hooks.handlers:{name}"
    for name in ("fetch_all_handler", "fetch_one_handler", "return_single_query_results")
}
#: The SQL providers (common.sql, postgres, sqlite), with Airflow 2's older module paths of the same names.
_SQL_PROVIDERS: dict[str, Names] = {
    "airflow.providers.common.sql.hooks.sql": {"DbApiHook": f"{_SQL_HOOK}:DbApiHook", **_SQL_HANDLERS},
    "airflow.providers.common.sql.hooks.handlers": _SQL_HANDLERS,
    "airflow.providers.common.sql.operators.sql": {
        "SQLExecuteQueryOperator": "tradewind.providers.common.sql.operators.sql:SQLExecuteQueryOperator",
        "BaseSQLOperator": "tradewind.providers.common.sql.operators.sql:BaseSQLOperator",
    },
    "airflow.providers.common.sql.sensors.sql": {
        "SqlSensor": "tradewind.providers.common.sql.sensors.sql:SqlSensor"
    },
    "airflow.providers.postgres.hooks.postgres": {
        "PostgresHook": "tradewind.providers.postgres.hooks.postgres:PostgresHook"
    },
    "airflow.providers.postgres.operators.postgres": {
        "PostgresOperator": "tradewind.providers.postgres.operators.postgres:PostgresOperator"
    },
    "airflow.providers.sqlite.hooks.sqlite": {
        "SqliteHook": "tradewind.providers.sqlite.hooks.sqlite:SqliteHook"
    },
    "airflow.providers.sqlite.operators.sqlite": {
        "SqliteOperator": "tradewind.providers.sqlite.operators.sqlite:SqliteOperator"
    },
    "airflow.hooks.dbapi": {"DbApiHook": f"{_SQL_HOOK}:DbApiHook"},
    "airflow.sensors.sql": {"SqlSensor": "tradewind.providers.common.sql.sensors.sql:SqlSensor"},
}

_NOTIFIER = {"BaseNotifier": "tradewind.sdk.notifier:BaseNotifier"}
_EMAIL_OPERATOR = {"EmailOperator": "tradewind.providers.smtp.operators.smtp:EmailOperator"}
#: Mail and notifications: the smtp provider, Airflow 2's email operator and send_email, BaseNotifier.
_ALERTS: dict[str, Names] = {
    "airflow.providers.smtp.hooks.smtp": {"SmtpHook": "tradewind.providers.smtp.hooks.smtp:SmtpHook"},
    "airflow.providers.smtp.operators.smtp": _EMAIL_OPERATOR,
    "airflow.providers.smtp.notifications.smtp": {
        "SmtpNotifier": "tradewind.providers.smtp.notifications.smtp:SmtpNotifier",
        "send_smtp_notification": "tradewind.providers.smtp.notifications.smtp:send_smtp_notification",
    },
    "airflow.operators.email": _EMAIL_OPERATOR,
    "airflow.operators.email_operator": _EMAIL_OPERATOR,
    "airflow.utils.email": {"send_email": "tradewind.compat.airflow.email:send_email"},
    "airflow.notifications.basenotifier": _NOTIFIER,
    "airflow.providers.common.compat.notifier": _NOTIFIER,
    "airflow.sdk.bases.notifier": _NOTIFIER,
}

_OBJECT_STORAGE_PATH = {"ObjectStoragePath": "tradewind.sdk.io.path:ObjectStoragePath"}
_OBJECT_STORE = {
    "attach": "tradewind.sdk.io.store:attach",
    "ObjectStore": "tradewind.sdk.io.store:ObjectStore",
}
_OBJECT_STORAGE = {
    **_OBJECT_STORAGE_PATH,
    **_OBJECT_STORE,
    "get_fs": "tradewind.sdk.io.filesystems:get_fs",
    "has_fs": "tradewind.sdk.io.filesystems:has_fs",
}

_SDK: dict[str, str] = {
    "DAG": _DAG,
    **_OBJECT_STORAGE_PATH,
    **_CONNECTION,
    **_BASE_HOOK,
    **_NOTIFIER,
    "BaseOperator": _BASE_OPERATOR,
    **_DECORATORS,
    **_TASK_GROUP,
    **_CHAIN,
    **_PARAMS,
    **_EDGES,
    **_TRIGGER_RULE,
    **_CONTEXT,
    **_STATES,
    "Variable": "tradewind.sdk.variable:Variable",
    "XComArg": "tradewind.sdk.xcom_arg:XComArg",
    **_TASK_INSTANCE,
    **_OPERATOR_LINK,
    **_RETRY_POLICY,
    "macros": "airflow.macros",
    "BaseSensorOperator": "tradewind.sdk.sensors.base:BaseSensorOperator",
    "PokeReturnValue": "tradewind.sdk.sensors.base:PokeReturnValue",
    "CronDataIntervalTimetable": _TIMETABLES_INTERVAL["CronDataIntervalTimetable"],
    "DeltaDataIntervalTimetable": _TIMETABLES_INTERVAL["DeltaDataIntervalTimetable"],
    **_TIMETABLES_TRIGGER,
    **_TIMETABLES_EVENTS,
    "conf": "tradewind.compat.airflow.config_view:conf",
    **_ASSETS,
    **_ASSET_DECORATOR,
    **_ASSET_OR_TIME,
}

_AIRFLOW2_OPERATORS: dict[str, Names] = {
    "bash": _BASH,
    "bash_operator": _BASH,
    "python": _PYTHON,
    "python_operator": _PYTHON,
    "empty": _EMPTY,
    "dummy": _DUMMY,
    "dummy_operator": _DUMMY,
    "branch": _BRANCH,
    "latest_only": _LATEST_ONLY,
    "latest_only_operator": _LATEST_ONLY,
    "datetime": _DATETIME,
    "weekday": _WEEKDAY_BRANCH,
    "trigger_dagrun": _TRIGGER_DAGRUN,
}

_STANDARD_OPERATORS: dict[str, Names] = {
    "bash": _BASH,
    "python": _PYTHON,
    "empty": _EMPTY,
    "branch": _BRANCH,
    "latest_only": _LATEST_ONLY,
    "datetime": _DATETIME,
    "weekday": _WEEKDAY_BRANCH,
    "trigger_dagrun": _TRIGGER_DAGRUN,
    "smooth": {"SmoothOperator": "tradewind.sdk.operators.smooth:SmoothOperator"},
}

AIRFLOW_NAMES: Mapping[str, Names] = {
    "airflow": {
        "DAG": _DAG,
        "XComArg": "tradewind.sdk.xcom_arg:XComArg",
        "AirflowException": _EXCEPTIONS["AirflowException"],
        "Dataset": _DATASETS["Dataset"],
        "Asset": _ASSETS["Asset"],
    },
    "airflow.sdk.definitions.asset": {**_ASSET_DEFINITIONS, **_ASSET_DECORATOR},
    "airflow.sdk.definitions.asset.decorators": _ASSET_DECORATOR,
    "airflow.sdk.definitions.asset.metadata": {"Metadata": _ASSETS["Metadata"]},
    "airflow.datasets": _DATASETS,
    "airflow.datasets.metadata": {"Metadata": _ASSETS["Metadata"]},
    "airflow.assets": _ASSET_DEFINITIONS,
    "airflow.providers.common.compat.assets": _ASSET_DEFINITIONS,
    "airflow.timetables.assets": _ASSET_OR_TIME,
    "airflow.timetables.datasets": {"DatasetOrTimeSchedule": _ASSET_OR_TIME["AssetOrTimeSchedule"]},
    "airflow.sdk": _SDK,
    "airflow.sdk.io": _OBJECT_STORAGE,
    "airflow.sdk.io.path": _OBJECT_STORAGE_PATH,
    "airflow.sdk.io.store": _OBJECT_STORE,
    "airflow.io": _OBJECT_STORAGE,
    "airflow.io.path": _OBJECT_STORAGE_PATH,
    "airflow.io.store": _OBJECT_STORE,
    "airflow.sdk.exceptions": _EXCEPTIONS,
    "airflow.sdk.definitions.dag": {"DAG": _DAG, "dag": _DECORATORS["dag"]},
    "airflow.sdk.definitions.param": _PARAMS,
    "airflow.sdk.definitions.taskgroup": _TASK_GROUP,
    "airflow.sdk.definitions.edges": _EDGES,
    "airflow.sdk.definitions.retry_policy": _RETRY_POLICY,
    "airflow.sdk.execution_time.context": {
        **_TASK_STATE,
        "get_current_context": _CONTEXT["get_current_context"],
    },
    "airflow.sdk.bases.operator": {"BaseOperator": _BASE_OPERATOR, **_CHAIN},
    "airflow.sdk.bases.sensor": _SENSORS["base"],
    "airflow.models": {
        "DAG": _DAG,
        "BaseOperator": _BASE_OPERATOR,
        **_PARAMS,
        "Variable": "tradewind.sdk.variable:Variable",
        "XComArg": "tradewind.sdk.xcom_arg:XComArg",
        **_TASK_INSTANCE,
        **_CONNECTION,
    },
    "airflow.models.connection": _CONNECTION,
    "airflow.sdk.definitions.connection": _CONNECTION,
    "airflow.hooks.base": _BASE_HOOK,
    "airflow.sdk.bases.hook": _BASE_HOOK,
    "airflow.secrets": _SECRETS_BACKEND,
    "airflow.secrets.base_secrets": _SECRETS_BACKEND,
    "airflow.models.dag": {"DAG": _DAG},
    "airflow.models.taskinstance": _TASK_INSTANCE,
    "airflow.models.baseoperatorlink": _OPERATOR_LINK,
    "airflow.models.baseoperator": {"BaseOperator": _BASE_OPERATOR, **_CHAIN},
    "airflow.models.param": _PARAMS,
    "airflow.models.variable": {"Variable": "tradewind.sdk.variable:Variable"},
    "airflow.models.xcom_arg": {"XComArg": "tradewind.sdk.xcom_arg:XComArg"},
    "airflow.decorators": _DECORATORS,
    **{f"airflow.operators.{module}": names for module, names in _AIRFLOW2_OPERATORS.items()},
    **{f"airflow.sensors.{module}": names for module, names in _SENSORS.items()},
    **{
        f"airflow.providers.standard.operators.{module}": names
        for module, names in _STANDARD_OPERATORS.items()
    },
    **{
        f"airflow.providers.standard.sensors.{module}": names
        for module, names in _SENSORS.items()
        if module != "base"
    },
    "airflow.providers.standard.utils.weekday": _WEEKDAY,
    "airflow.providers.standard.decorators": {},
    "airflow.providers.common.compat.sdk": {
        **_SDK,
        **_EXCEPTIONS,
        "timezone": "airflow.utils.timezone",
    },
    "airflow.providers.http.hooks.http": {"HttpHook": "tradewind.providers.http.hooks.http:HttpHook"},
    "airflow.providers.http.operators.http": {
        "HttpOperator": "tradewind.providers.http.operators.http:HttpOperator",
        "SimpleHttpOperator": "tradewind.providers.http.operators.http:SimpleHttpOperator",
    },
    "airflow.providers.http.sensors.http": {"HttpSensor": "tradewind.providers.http.sensors.http:HttpSensor"},
    "airflow.providers.http.triggers.http": {
        "HttpTrigger": "tradewind.providers.http.triggers.http:HttpTrigger",
        "HttpSensorTrigger": "tradewind.providers.http.triggers.http:HttpSensorTrigger",
    },
    "airflow.providers.amazon.aws.hooks.base_aws": {
        "AwsBaseHook": "tradewind.providers.amazon.aws.hooks.base_aws:AwsBaseHook",
    },
    "airflow.providers.amazon.aws.hooks.s3": {"S3Hook": "tradewind.providers.amazon.aws.hooks.s3:S3Hook"},
    "airflow.providers.amazon.aws.sensors.s3": {
        "S3KeySensor": "tradewind.providers.amazon.aws.sensors.s3:S3KeySensor",
    },
    "airflow.utils.trigger_rule": _TRIGGER_RULE,
    "airflow.utils.edgemodifier": _EDGES,
    "airflow.utils.task_group": _TASK_GROUP,
    "airflow.utils.dates": {"days_ago": "tradewind.sdk.dates:days_ago"},
    "airflow.utils.timezone": _TIMEZONE,
    "airflow.utils.weekday": _WEEKDAY,
    "airflow.utils.helpers": _CHAIN,
    "airflow.utils.state": {**_STATES, "State": "tradewind.core.states:TaskInstanceState"},
    "airflow.utils.context": {"Context": _CONTEXT["Context"]},
    "airflow.utils.types": {"DagRunType": "tradewind.core.states:DagRunType"},
    "airflow.macros": _MACROS,
    "airflow.exceptions": _EXCEPTIONS,
    "airflow.configuration": {"conf": "tradewind.compat.airflow.config_view:conf"},
    "airflow.plugins_manager": {"AirflowPlugin": "tradewind.sdk.plugins:AirflowPlugin"},
    "airflow.timetables.base": _TIMETABLES_BASE,
    "airflow.timetables.interval": _TIMETABLES_INTERVAL,
    "airflow.timetables.trigger": _TIMETABLES_TRIGGER,
    "airflow.timetables.simple": _TIMETABLES_SIMPLE,
    "airflow.timetables.events": _TIMETABLES_EVENTS,
    "airflow.triggers.base": _TRIGGERS_BASE,
    "airflow.triggers.temporal": _TRIGGERS_TEMPORAL,
    "airflow.triggers.file": _TRIGGERS_FILE,
    "airflow.triggers.external_task": _TRIGGERS_EXTERNAL,
    "airflow.providers.standard.triggers.external_task": _TRIGGERS_EXTERNAL,
    "airflow.providers.standard.triggers.temporal": _TRIGGERS_TEMPORAL,
    "airflow.providers.standard.triggers.file": _TRIGGERS_FILE,
    **_ALERTS,
    **_SQL_PROVIDERS,
}

#: Airflow features Tradewind plans but does not have yet: module or ``module.name`` -> the feature's name.
LATER: Mapping[str, str] = {
    "airflow.sdk.AssetAccessControl": "asset access controls",
}


def served_modules() -> frozenset[str]:
    """Every ``airflow`` module the finder builds: the table's paths and all their parents."""
    modules: set[str] = set()
    for path in AIRFLOW_NAMES:
        parts = path.split(".")
        modules.update(".".join(parts[: i + 1]) for i in range(len(parts)))
    return frozenset(modules)
