"""The one typed Settings object: TOML file in TRADEWIND_HOME, overridden by TRADEWIND__SECTION__KEY env vars."""

from __future__ import annotations

import os
import re
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from tradewind.core.run_inputs import DEFAULT_ALLOWED_RUN_ID_PATTERN
from tradewind.core.timezones import SYSTEM, UTC_NAME, is_zone_name
from tradewind.sdk.errors import ConfigError

CONFIG_FILE_NAME = "tradewind.toml"


def tradewind_home() -> Path:
    return Path(os.environ.get("TRADEWIND_HOME") or Path.home() / "tradewind").expanduser()


class _Section(BaseModel):
    """A config section: unknown keys are errors, so a typo never silently keeps a default."""

    model_config = ConfigDict(extra="forbid")


class CoreSettings(_Section):
    dags_folder: Path | None = None  # default: $TRADEWIND_HOME/dags
    executor: Literal["local", "celery", "kubernetes"] = "local"
    parallelism: int = Field(32, ge=1)
    load_examples: bool = False
    dags_are_paused_at_creation: bool = True
    default_pool_slots: int = Field(128, ge=0)
    #: Retries of tasks that do not set ``retries`` themselves (nor through default_args).
    default_task_retries: int = Field(0, ge=0)
    hostname: str | None = None
    #: Start task processes by forking a pre-imported parent instead of exec'ing a new interpreter.
    fork_runner: bool = True
    #: With ``fork_runner``: how many DAG files the local executor keeps imported in a warm parent each, so
    #: a try forks from it instead of importing its DAG file again (ADR 0017); 0 turns warm parents off.
    warm_dag_files: int = Field(4, ge=0)
    #: Serve Airflow's import names (``airflow.*``) to DAG files; off, ``import airflow`` fails as usual.
    airflow_compat: bool = True
    #: Testing a connection from the REST API and the UI (as Airflow's ``[core] test_connection``): it makes
    #: the webserver connect wherever an admin or op points it, so it is off unless enabled; "hidden" also
    #: hides the UI's Test button. `tradewind connections test` always works.
    test_connection: Literal["enabled", "disabled", "hidden"] = "disabled"
    plugins_folder: Path | None = None  # default: $TRADEWIND_HOME/plugins
    #: Where PythonVirtualenvOperator keeps the virtualenvs it builds (default: $TRADEWIND_HOME/venvs).
    venv_cache_path: Path | None = None
    #: Fernet keys encrypting connection passwords and extras, comma-separated: the first encrypts, every
    #: one decrypts (add a new key first, run `tradewind rotate-fernet-key`, then drop the old one).
    fernet_key: SecretStr | None = None


class SecretsSettings(_Section):
    """Where connections and variables are looked up before the database (docs/connections.md)."""

    #: A user secrets backend class, ``"pkg.module.Class"`` (Airflow's ``BaseSecretsBackend`` interface).
    backend: str | None = None
    #: Keyword arguments of ``backend``, as a JSON object text.
    backend_kwargs: str = "{}"
    #: A folder holding one file per connection (file name = conn id, content = URI or JSON form).
    connections_path: Path | None = None
    #: A folder holding one file per variable (file name = key, content = value).
    variables_path: Path | None = None


class SmtpSettings(_Section):
    """The mail server email alerts go through (docs/alerts.md). No password here: it comes from the connection
    ``conn_id`` (a task process never holds a secret setting; connections reach it through the execution API)."""

    host: str = "localhost"
    port: int = Field(25, ge=1, le=65535)
    #: Upgrade the plain connection with STARTTLS (usually port 587).
    starttls: bool = False
    #: Connect with TLS from the start (SMTPS, usually port 465).
    ssl: bool = False
    #: Log in as this user when the connection ``conn_id`` names none (its password is the connection's).
    user: str | None = None
    mail_from: str = "tradewind@localhost"
    #: Seconds each network step (connect, each command) may take.
    timeout: float = Field(30.0, gt=0)
    #: How often a dropped connection or a temporary refusal (4xx) is tried again.
    retry_limit: int = Field(5, ge=0)
    #: The connection holding the login and password (and, when it sets them, host, port and its extras).
    conn_id: str = "smtp_default"

    @model_validator(mode="before")
    @classmethod
    def _no_password(cls, values: Any) -> Any:
        if isinstance(values, dict) and ({"password", "smtp_password"} & set(values)):
            raise ValueError(
                "there is no [smtp] password setting: store the password in the connection named by "
                "[smtp] conn_id (default smtp_default), e.g. TRADEWIND_CONN_SMTP_DEFAULT or `tradewind connections add`"
            )
        return values


class EmailSettings(_Section):
    """What email alerts (``email_on_failure`` / ``email_on_retry``) say."""

    #: A Jinja file for the subject; empty: the built-in one.
    subject_template: Path | None = None
    #: A Jinja file for the HTML body; empty: the built-in one.
    html_content_template: Path | None = None
    #: The web UI's address as people reach it, for the log link in alerts (default: from [webserver]).
    base_url: str = ""


class DatabaseSettings(_Section):
    url: SecretStr | None = None  # default: sqlite:///$TRADEWIND_HOME/tradewind.db
    pool_size: int = Field(5, ge=1)
    echo: bool = False
    #: How long (seconds) every component rides out an unusable metadata database (a restart, a failover,
    #: SQLite locked past its busy timeout) by retrying with backoff before it gives up (ADR 0021). A try
    #: whose claim or end cannot be written waits this long too; runners keep at least this retry window.
    outage_timeout: float = Field(60.0, ge=0)


class LoggingSettings(_Section):
    base_log_folder: Path | None = None  # default: $TRADEWIND_HOME/logs
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    #: Service logs (scheduler, webserver, DAG processor, triggerer, workers) as plain text or as one JSON
    #: object per line for log collectors. Task logs are not affected.
    log_format: Literal["text", "json"] = "text"
    #: Also write each try's log lines (task output and the runner's own lines) to the runner's stdout, so a
    #: worker pod's container log (`kubectl logs`) holds the try's output. Worker pods get it set.
    task_output_to_stdout: bool = False
    #: Where finished tries' logs are uploaded, e.g. ``s3://bucket/prefix`` (empty: local files only). The
    #: webserver and `tasks logs` read from there when the local file is absent.
    remote_base_log_folder: str = ""
    #: The connection that holds the remote store's credentials (empty: the store's default chain).
    remote_log_conn_id: str = ""
    #: Delete the local copy of a try's log once it is uploaded.
    delete_local_logs: bool = False


class MetricsSettings(_Section):
    """Prometheus metrics (``/metrics``) and, as an option, StatsD; names follow Airflow's (docs/metrics.md)."""

    prometheus_on: bool = True
    #: Where the scheduler, DAG processor and triggerer serve ``/metrics`` (each its own process: on one
    #: machine give each its own port). Unset: no metrics server; the webserver (and `tradewind standalone`,
    #: one process) serve ``/metrics`` on the web port.
    serve_host: str = "127.0.0.1"
    serve_port: int | None = Field(None, ge=0, le=65535)
    #: Bearer token a scraper presents (``Authorization: Bearer ...``); required to serve on a
    #: non-loopback host. The webserver's ``/metrics`` also accepts a logged-in user.
    token: SecretStr | None = None
    statsd_on: bool = False
    statsd_host: str = "127.0.0.1"
    statsd_port: int = Field(8125, ge=1, le=65535)
    statsd_prefix: str = "tradewind"


class TracesSettings(_Section):
    """OpenTelemetry traces over OTLP/HTTP: one trace per DAG run, a span per task try (off by default)."""

    otel_on: bool = False
    #: The collector's OTLP/HTTP base URL (``/v1/traces`` is appended).
    otlp_endpoint: str = "http://127.0.0.1:4318"
    otel_service: str = "tradewind"
    #: Extra headers for the exporter, e.g. an API key: ``{"x-api-key": "..."}``.
    otlp_headers: dict[str, SecretStr] = Field(default_factory=dict)


class SchedulerSettings(_Section):
    #: Upper bound between two scheduler iterations while work is in flight (a run queued or running, a try
    #: scheduled, queued or running) and nothing wakes it earlier.
    loop_interval: float = Field(1.0, gt=0)
    #: With nothing in flight, the scheduler sleeps until the next stored moment (a scheduled run, a retry,
    #: a reschedule, a deferral timeout) or a wake-up (ADR 0012), but never longer than this: the safety
    #: poll that catches a missed wake-up. Never below ``loop_interval``.
    idle_poll_interval: float = Field(30.0, gt=0)
    heartbeat_interval: float = Field(5.0, gt=0)
    #: A scheduler whose job heartbeat is older than this is dead: health checks report it, and another
    #: scheduler adopts (or schedules again) the tries it left. Airflow's name and default. Never below
    #: three heartbeat intervals (see ``liveness_threshold``).
    scheduler_health_check_threshold: float = Field(30.0, gt=0)
    #: A running try whose runner sent no heartbeat for this long is a zombie.
    zombie_threshold: float = Field(60.0, gt=0)
    #: A queued try that no executor reports on for this long is reset to scheduled.
    task_queued_timeout: float = Field(600.0, gt=0)
    #: Re-list the DAG folder this often (seconds).
    dag_dir_list_interval: float = Field(5.0, gt=0)
    #: Per-file parse timeout (seconds).
    dag_file_processor_timeout: float = Field(30.0, gt=0)
    parsing_processes: int = Field(2, ge=1)
    #: When false, the scheduler parses the DAG folder itself; run `tradewind dag-processor` otherwise.
    standalone_dag_processor: bool = False
    max_tis_per_query: int = Field(512, ge=1)
    #: What ``schedule="<cron>"`` means. False (Airflow 3): a run at each tick, logical date = the tick
    #: (CronTriggerTimetable). True (Airflow 2): a run per data interval between two ticks, created when it
    #: ends, logical date = its start (CronDataIntervalTimetable). Read when a DAG file is parsed.
    create_cron_data_intervals: bool = False
    #: The same for ``schedule=timedelta(...)``: DeltaTriggerTimetable, or DeltaDataIntervalTimetable if true.
    create_delta_data_intervals: bool = False
    #: Run ids users give (REST, trigger form, CLI, TriggerDagRunOperator) must match this (``re.match``).
    #: Airflow's name and default. Run ids Tradewind makes itself are not checked against it.
    allowed_run_id_pattern: str = DEFAULT_ALLOWED_RUN_ID_PATTERN

    @field_validator("allowed_run_id_pattern")
    @classmethod
    def _compiles(cls, pattern: str) -> str:
        try:
            re.compile(pattern)
        except re.error as exc:
            raise ValueError(f"not a regular expression: {exc}") from None
        return pattern

    @property
    def liveness_threshold(self) -> float:
        """Seconds without a heartbeat after which a scheduler job counts as dead.

        A busy scheduler beats late (a long iteration on a loaded machine): taking it for dead too early
        makes another scheduler take its queued tries away while it is about to start them."""
        return max(self.scheduler_health_check_threshold, 3 * self.heartbeat_interval)


class TriggererSettings(_Section):
    """`tradewind triggerer`: runs the triggers deferred tasks wait on (Airflow's ``[triggerer]`` names)."""

    #: Most triggers one triggerer runs at once; the rest wait for another triggerer or a free place.
    capacity: int = Field(1000, ge=1)
    heartbeat_interval: float = Field(5.0, gt=0)
    #: A triggerer whose heartbeat is older than this is dead: its triggers are taken over by the others.
    #: Never below three heartbeat intervals (see ``liveness_threshold``).
    triggerer_health_check_threshold: float = Field(30.0, gt=0)
    #: How often a triggerer looks for new triggers (seconds) when not woken: a try that defers rings it at
    #: once (ADR 0012), so this is the safety poll and the pace of taking over a dead triggerer's triggers.
    poll_interval: float = Field(5.0, gt=0)
    #: A trigger that keeps the event loop from running for longer than this (seconds) is named in the log.
    blocked_main_thread_warning_threshold: float = Field(0.2, gt=0)

    @property
    def liveness_threshold(self) -> float:
        return max(self.triggerer_health_check_threshold, 3 * self.heartbeat_interval)


class WebserverSettings(_Section):
    host: str = "127.0.0.1"
    port: int = Field(8080, ge=1, le=65535)
    secret_key: SecretStr | None = None
    session_lifetime_minutes: int = Field(12 * 60, ge=1)
    max_request_bytes: int = Field(1_000_000, ge=1024)
    login_rate_limit: int = Field(5, ge=1)  # login attempts per minute per user and client address
    #: Proxies whose X-Forwarded-For/-Proto headers are believed (comma-separated IPs or CIDRs, or "*"), as
    #: uvicorn's --forwarded-allow-ips: behind a TLS-terminating proxy, cookies are then marked Secure.
    forwarded_allow_ips: str = "127.0.0.1"
    #: The zone the UI shows times in until a user picks their own: "UTC", "system" (the webserver
    #: machine's zone) or an IANA name such as "Europe/Paris".
    default_ui_timezone: str = UTC_NAME

    @field_validator("default_ui_timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        if value != SYSTEM and not is_zone_name(value):
            raise ValueError(f'{value!r} is not "UTC", "system" or an IANA time zone name such as "Europe/Paris"')
        return value


class ExecutionApiSettings(_Section):
    """The task execution API: the only way a task try reaches shared state (ADR 0007)."""

    #: The URL task runners call (e.g. ``http://tradewind-webserver:8080/execution``): set it for Celery
    #: workers and worker pods. Empty: the scheduler serves the API itself on ``serve_host`` (loopback) and
    #: hands its own URL to the tries it starts, which is all the local executor and standalone need.
    url: str = ""
    #: Signs the per-try tokens; the scheduler (which issues them) and every server of the API (webserver,
    #: scheduler) need the same value. Empty: generated once and kept in $TRADEWIND_HOME/execution_api_secret.
    jwt_secret: SecretStr | None = None
    #: Lifetime of a running try's token (seconds); each heartbeat renews it.
    token_ttl: float = Field(600.0, ge=10)
    #: Lifetime of the token a queued try is dispatched with: it can only claim its try, once.
    queued_token_ttl: float = Field(86400.0, ge=60)
    #: Where the scheduler serves the API when ``url`` is empty.
    serve_host: str = "127.0.0.1"
    serve_port: int = Field(0, ge=0, le=65535)
    #: Seconds a runner keeps retrying a call while the API is unreachable before it gives up.
    client_retry_seconds: float = Field(60.0, ge=0)


class CelerySettings(_Section):
    broker_url: SecretStr = SecretStr("redis://127.0.0.1:6379/0")
    result_backend: SecretStr | None = None
    worker_concurrency: int = Field(8, ge=1)
    prefetch_multiplier: int = Field(1, ge=1)
    visibility_timeout: int = Field(21600, ge=1)
    default_queue: str = "default"


class KubernetesSettings(_Section):
    namespace: str = "default"
    in_cluster: bool = False
    config_file: Path | None = None
    context: str | None = None
    image: str = "tradewind:latest"
    image_pull_policy: Literal["Always", "IfNotPresent", "Never"] = "IfNotPresent"
    service_account_name: str | None = None
    pod_template_file: Path | None = None
    delete_worker_pods: bool = True
    delete_worker_pods_on_failure: bool = False
    worker_pods_pending_timeout: float = Field(300.0, gt=0)
    pod_creation_concurrency: int = Field(8, ge=1)
    env_from_secret: str | None = None
    env_from_configmap: str | None = None
    dags_volume_claim: str | None = None
    logs_volume_claim: str | None = None
    dags_mount_path: str = "/opt/tradewind/dags"
    logs_mount_path: str = "/opt/tradewind/logs"
    max_pods_per_namespace: int | None = None
    #: Worker pod container resources, e.g. {"requests": {"cpu": "100m"}, "limits": {"memory": "512Mi"}}.
    worker_resources: dict[str, Any] = Field(default_factory=dict)
    node_selector: dict[str, str] = Field(default_factory=dict)
    tolerations: list[dict[str, Any]] = Field(default_factory=list)
    affinity: dict[str, Any] = Field(default_factory=dict)
    worker_labels: dict[str, str] = Field(default_factory=dict)
    worker_annotations: dict[str, str] = Field(default_factory=dict)
    #: The command worker pods run the runner with (`tradewind tasks run ...`).
    worker_executable: str = "tradewind"
    pod_launch_retries: int = Field(3, ge=0)
    #: Seconds before a try whose pod failed to start is launched again; doubled for each further launch
    #: (plus up to 50 % jitter) and capped at ``pod_relaunch_max_delay``.
    pod_relaunch_delay: float = Field(5.0, ge=0)
    pod_relaunch_max_delay: float = Field(120.0, ge=0)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="TRADEWIND__",
        env_nested_delimiter="__",
        case_sensitive=False,
        extra="forbid",
    )

    home: Path = Field(default_factory=tradewind_home)
    core: CoreSettings = Field(default_factory=CoreSettings)
    database: DatabaseSettings = Field(default_factory=DatabaseSettings)
    logging: LoggingSettings = Field(default_factory=LoggingSettings)
    scheduler: SchedulerSettings = Field(default_factory=SchedulerSettings)
    triggerer: TriggererSettings = Field(default_factory=TriggererSettings)
    webserver: WebserverSettings = Field(default_factory=WebserverSettings)
    execution_api: ExecutionApiSettings = Field(default_factory=ExecutionApiSettings)
    celery: CelerySettings = Field(default_factory=CelerySettings)
    kubernetes: KubernetesSettings = Field(default_factory=KubernetesSettings)
    secrets: SecretsSettings = Field(default_factory=SecretsSettings)
    smtp: SmtpSettings = Field(default_factory=SmtpSettings)
    email: EmailSettings = Field(default_factory=EmailSettings)
    metrics: MetricsSettings = Field(default_factory=MetricsSettings)
    traces: TracesSettings = Field(default_factory=TracesSettings)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        toml_file = tradewind_home() / CONFIG_FILE_NAME
        return (init_settings, env_settings, TomlConfigSettingsSource(settings_cls, toml_file=toml_file))

    @field_validator("home", mode="after")
    @classmethod
    def _expand_home(cls, value: Path) -> Path:
        return value.expanduser()

    # Derived paths: one place decides the defaults under TRADEWIND_HOME.
    @property
    def dags_folder(self) -> Path:
        return (self.core.dags_folder or self.home / "dags").expanduser()

    @property
    def plugins_folder(self) -> Path:
        return (self.core.plugins_folder or self.home / "plugins").expanduser()

    @property
    def venv_cache_folder(self) -> Path:
        return (self.core.venv_cache_path or self.home / "venvs").expanduser()

    @property
    def base_log_folder(self) -> Path:
        return (self.logging.base_log_folder or self.home / "logs").expanduser()

    @property
    def database_url(self) -> str:
        if self.database.url is not None:
            return self.database.url.get_secret_value()
        return f"sqlite:///{self.home / 'tradewind.db'}"

    @property
    def config_file(self) -> Path:
        return self.home / CONFIG_FILE_NAME


def load_settings(**overrides: Any) -> Settings:
    """Build Settings, turning validation failures into a ConfigError that names the key and its source."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        problems = []
        first_key = None
        for err in exc.errors():
            loc = tuple(str(p) for p in err["loc"])
            key = ".".join(loc)
            first_key = first_key or key
            source = "given" if loc and loc[0] in overrides else setting_source(loc)
            problems.append(f"{key} ({source}): {err['msg']}")
        raise ConfigError("invalid configuration: " + "; ".join(problems), key=first_key) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"invalid TOML in {tradewind_home() / CONFIG_FILE_NAME}: {exc}") from None


def setting_source(loc: tuple[str, ...]) -> str:
    """Where the value of the setting at ``loc`` (e.g. ``("core", "parallelism")``) comes from, for error
    messages: the environment variable that sets it, else the line of the config file, else its default."""
    for depth in range(len(loc), 0, -1):
        name = "TRADEWIND__" + "__".join(part.upper() for part in loc[:depth])
        if any(key.upper() == name for key in os.environ):
            return f"env {name}"
    config_file = tradewind_home() / CONFIG_FILE_NAME
    line = _toml_line(config_file, loc)
    if line is not None:
        return f"{config_file} line {line}"
    return "default" if not config_file.exists() else f"default, or {config_file}"


def _toml_line(config_file: Path, loc: tuple[str, ...]) -> int | None:
    """The line of ``config_file`` that sets ``loc`` (``[section]`` then ``key = ...``), if there is one."""
    try:
        lines = config_file.read_text(encoding="utf-8").splitlines()
    except OSError:
        return None
    if len(loc) < 2:
        return None
    section, key = loc[0], loc[1]
    current = ""
    for number, raw in enumerate(lines, start=1):
        text = raw.strip()
        if text.startswith("[") and not text.startswith("[["):
            current = text.strip("[] ").split(".")[0].strip().strip('"')
        elif current == section and re.match(rf'^"?{re.escape(key)}"?\s*=', text):
            return number
    return None
