"""Every metric Tradewind records: its key, kind, labels, Prometheus name and StatsD name (docs/metrics.md).

Keys and StatsD names follow Apache Airflow's metric names where Airflow has one, so dashboards carry over:
the StatsD name is Airflow's dotted name with the labels filled in, and the Prometheus name is
``tradewind_`` + the key with dots as underscores, with the labels as Prometheus labels.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from functools import cache


class MetricKind(StrEnum):
    COUNTER = "counter"
    GAUGE = "gauge"
    #: A duration in seconds: a Prometheus histogram, a StatsD timer (milliseconds).
    TIMER = "timer"


#: Histogram buckets (seconds) for task and run durations, from a quick task to a long batch job. Few: these
#: series are per DAG and task, so every bucket multiplies the series a scrape carries (and their creation
#: sits on the scheduler's path the first time a task ends).
LONG_BUCKETS = (0.5, 1.0, 5.0, 15.0, 60.0, 300.0, 900.0, 3600.0)
#: Histogram buckets (seconds) for loops, parses and web requests.
SHORT_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)

PROMETHEUS_NAMESPACE = "tradewind"


@dataclass(frozen=True, slots=True)
class MetricSpec:
    key: str
    kind: MetricKind
    labels: tuple[str, ...]
    #: The StatsD name, a template over the labels (a label left out of it is not sent to StatsD).
    statsd: str
    help: str
    buckets: tuple[float, ...] = SHORT_BUCKETS

    @property
    def label_set(self) -> frozenset[str]:
        return _label_set(self.labels)

    @property
    def prometheus_name(self) -> str:
        """The name a query uses: counters end in ``_total``, timers in ``_seconds`` (a histogram)."""
        base = f"{PROMETHEUS_NAMESPACE}_{self.key.replace('.', '_')}"
        if self.kind == MetricKind.COUNTER:
            return f"{base}_total"
        if self.kind == MetricKind.TIMER:
            return f"{base}_seconds"
        return base


_C, _G, _T = MetricKind.COUNTER, MetricKind.GAUGE, MetricKind.TIMER
_TASK = ("dag_id", "task_id")

@cache
def _label_set(labels: tuple[str, ...]) -> frozenset[str]:
    return frozenset(labels)


CATALOG: tuple[MetricSpec, ...] = (
    # -- scheduler ----------------------------------------------------------------------------------
    MetricSpec("scheduler_heartbeat", _C, (), "scheduler_heartbeat", "Scheduler heartbeats."),
    MetricSpec(
        "scheduler.scheduler_loop_duration",
        _T,
        (),
        "scheduler.scheduler_loop_duration",
        "Seconds one scheduler iteration (tick) took.",
    ),
    MetricSpec("executor.open_slots", _G, ("executor",), "executor.open_slots", "Free executor slots."),
    MetricSpec(
        "executor.queued_tasks",
        _G,
        ("executor",),
        "executor.queued_tasks",
        "Tries handed to the executor that compute has not picked up yet.",
    ),
    MetricSpec(
        "executor.running_tasks", _G, ("executor",), "executor.running_tasks", "Tries the executor carries."
    ),
    MetricSpec("pool.open_slots", _G, ("pool_name",), "pool.open_slots.{pool_name}", "Free slots of a pool."),
    MetricSpec(
        "pool.queued_slots",
        _G,
        ("pool_name",),
        "pool.queued_slots.{pool_name}",
        "Slots of a pool held by queued tries.",
    ),
    MetricSpec(
        "pool.running_slots",
        _G,
        ("pool_name",),
        "pool.running_slots.{pool_name}",
        "Slots of a pool held by running tries.",
    ),
    MetricSpec(
        "ti.start",
        _C,
        _TASK,
        "ti.start.{dag_id}.{task_id}",
        "Tries whose compute started (the executor picked them up).",
    ),
    MetricSpec(
        "ti.finish",
        _C,
        (*_TASK, "state"),
        "ti.finish.{dag_id}.{task_id}.{state}",
        "Tries that ended, by the state they ended in.",
    ),
    MetricSpec(
        "task.duration",
        _T,
        _TASK,
        "dag.{dag_id}.{task_id}.duration",
        "Seconds a try ran (start to end).",
        LONG_BUCKETS,
    ),
    MetricSpec(
        "task.queued_duration",
        _T,
        _TASK,
        "dag.{dag_id}.{task_id}.queued_duration",
        "Seconds a try waited between queued and running.",
        LONG_BUCKETS,
    ),
    MetricSpec(
        "dagrun.duration",
        _T,
        ("dag_id", "state"),
        "dagrun.duration.{state}.{dag_id}",
        "Seconds a DAG run took, by the state it ended in.",
        LONG_BUCKETS,
    ),
    MetricSpec(
        "dagrun.schedule_delay",
        _T,
        ("dag_id",),
        "dagrun.schedule_delay.{dag_id}",
        "Seconds between a scheduled run's due time and its start.",
        LONG_BUCKETS,
    ),
    MetricSpec(
        "zombies_killed",
        _C,
        _TASK,
        "zombies_killed",
        "Tries failed because their runner stopped heartbeating.",
    ),
    # -- DAG processor ------------------------------------------------------------------------------
    MetricSpec(
        "dag_processing.last_duration",
        _T,
        ("file_name",),
        "dag_processing.last_duration.{file_name}",
        "Seconds parsing one DAG file took.",
    ),
    MetricSpec(
        "dag_processing.total_parse_time",
        _G,
        (),
        "dag_processing.total_parse_time",
        "Seconds the last pass over the DAG folder took.",
    ),
    MetricSpec(
        "dag_processing.import_errors",
        _G,
        (),
        "dag_processing.import_errors",
        "DAG files with an import error.",
    ),
    # -- triggerer ----------------------------------------------------------------------------------
    MetricSpec("triggerer_heartbeat", _C, (), "triggerer_heartbeat", "Triggerer heartbeats."),
    MetricSpec("triggers.running", _G, (), "triggers.running", "Triggers this triggerer runs."),
    # -- executors ----------------------------------------------------------------------------------
    MetricSpec(
        "kubernetes_executor.pods_created",
        _C,
        (),
        "kubernetes_executor.pods_created",
        "Worker pods created.",
    ),
    MetricSpec(
        "kubernetes_executor.pods_pending",
        _G,
        (),
        "kubernetes_executor.pods_pending",
        "Worker pods not running yet.",
    ),
    MetricSpec(
        "kubernetes_executor.pods_failed",
        _C,
        ("reason",),
        "kubernetes_executor.pods_failed.{reason}",
        "Worker pods that failed, by reason (OOMKilled, ImagePullBackOff, Error, ...).",
    ),
    MetricSpec(
        "celery.queued_tasks",
        _G,
        ("queue",),
        "celery.queued_tasks.{queue}",
        "Tries sent to a Celery queue that no worker has started yet.",
    ),
    # -- webserver ----------------------------------------------------------------------------------
    MetricSpec(
        "http.request_duration",
        _T,
        ("method", "route", "status"),
        "webserver.request_duration.{method}",
        "Seconds the webserver took to answer, by route template (not the raw path).",
    ),
)

BY_KEY: dict[str, MetricSpec] = {spec.key: spec for spec in CATALOG}
