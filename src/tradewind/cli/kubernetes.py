"""`tradewind kubernetes`: list and clean up worker pods, and run a fake cluster for local development."""

from __future__ import annotations

import argparse
import os
import shlex
import signal
import sys
import tempfile
import threading
from pathlib import Path
from types import FrameType

from sqlalchemy.orm import Session

from tradewind.cli.arguments import Subparsers, add_output_flag, print_rows
from tradewind.cli.store_access import open_store
from tradewind.config.settings import load_settings
from tradewind.core.keys import TaskTryKey
from tradewind.core.states import TaskInstanceState
from tradewind.executors.kubernetes.api_client import make_core_api
from tradewind.executors.kubernetes.pod_api import PodApi
from tradewind.executors.kubernetes.pod_inventory import cleanup_candidates, list_worker_pods, remove_pod
from tradewind.sdk.errors import ConfigError
from tradewind.store import scheduling

#: The shared container-engine tool exports the podman run command this machine needs here.
ENGINE_RUN_ENV = "PODMAN_RUN"
LIVE_STATES = (TaskInstanceState.QUEUED, TaskInstanceState.RUNNING)
POD_COLUMNS = ["namespace", "pod", "phase", "dag_id", "task_id", "run_id", "map_index", "try_number", "owner",
               "kept", "reason", "age_seconds"]


def register(subparsers: Subparsers) -> None:
    group = subparsers.add_parser("kubernetes", help="Inspect and clean up worker pods; run a fake cluster")
    sub = group.add_subparsers(dest="kubernetes_command", metavar="SUBCOMMAND", required=True)

    listing = sub.add_parser("list-pods", help="List the Kubernetes executor's worker pods and their states")
    _namespace_flag(listing)
    add_output_flag(listing)
    listing.set_defaults(handler=_list_pods)

    cleanup = sub.add_parser(
        "cleanup-pods",
        help="Delete finished worker pods and orphans (their try is no longer queued or running), "
        "saving their output into the try logs first",
    )
    _namespace_flag(cleanup)
    cleanup.add_argument("--yes", action="store_true", help="delete; without it, only show what would go")
    add_output_flag(cleanup)
    cleanup.set_defaults(handler=_cleanup_pods)

    fake = sub.add_parser(
        "fake-cluster", help="Run the fake Kubernetes API server and a kubelet (host processes, or --containers)"
    )
    fake.add_argument("--port", type=int, default=0, help="API server port on 127.0.0.1 (default: a free one)")
    fake.add_argument("--kubeconfig", type=Path, default=None, help="where to write the kubeconfig")
    fake.add_argument("--work-dir", type=Path, default=None, help="node logs and state (default: a temp dir)")
    fake.add_argument(
        "--claim", action="append", default=[], metavar="NAME=DIR",
        help="serve PersistentVolumeClaim NAME from local directory DIR (repeatable)",
    )
    fake.add_argument("--namespace", action="append", default=[], help="extra namespace to create (repeatable)")
    fake.add_argument(
        "--env", action="append", default=[], metavar="KEY=VALUE",
        help="set in every container, as an image's ENV would (repeatable; PATH and HOME come from here)",
    )
    fake.add_argument(
        "--containers", action="store_true",
        help="run each pod's containers with podman from the pod's images (default: as host processes)",
    )
    fake.add_argument(
        "--engine-run", default=None, metavar="COMMAND",
        help=f"with --containers: how this machine runs a container (default: ${ENGINE_RUN_ENV}, else 'podman run')",
    )
    fake.set_defaults(handler=_fake_cluster)


def _namespace_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "-n", "--namespace", action="append", default=None,
        help="namespace to look in (repeatable; default: kubernetes.namespace)",
    )


def _try_is_live(session: Session, key: TaskTryKey) -> bool:
    row = scheduling.get_task_instance_row(session=session, key=key.ti)
    return row is not None and row.try_number == key.try_number and row.state in LIVE_STATES


def _list_pods(args: argparse.Namespace) -> int:
    settings = load_settings()
    api = PodApi(make_core_api(settings.kubernetes))
    try:
        pods = list_worker_pods(api, args.namespace or [settings.kubernetes.namespace])
    finally:
        api.close()
    print_rows([p.row() for p in pods], POD_COLUMNS, args.output)
    return 0


def _cleanup_pods(args: argparse.Namespace) -> int:
    settings = load_settings()
    store = open_store(settings)
    api = PodApi(make_core_api(settings.kubernetes))
    try:
        pods = list_worker_pods(api, args.namespace or [settings.kubernetes.namespace])
        with store.sessions() as session:
            chosen = cleanup_candidates(pods, lambda key: _try_is_live(session, key))
        rows = []
        for pod, why in chosen:
            if args.yes:
                remove_pod(api, pod, settings.base_log_folder, why,
                           shared_log_volume=bool(settings.kubernetes.logs_volume_claim))
            rows.append({**pod.row(), "why": why, "deleted": bool(args.yes)})
    finally:
        api.close()
        store.engine.dispose()
    print_rows(rows, ["namespace", "pod", "phase", "dag_id", "task_id", "try_number", "why", "deleted"], args.output)
    if not args.yes and rows and args.output == "table":
        print(f"{len(rows)} pod(s) would be deleted; run again with --yes to delete them.", file=sys.stderr)
    return 0


def _pairs(items: list[str], flag: str) -> list[tuple[str, str]]:
    pairs = []
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise ConfigError(f"{flag} {item!r}: expected NAME=VALUE", key=flag)
        pairs.append((key, value))
    return pairs


def _fake_cluster(args: argparse.Namespace) -> int:
    # A development tool outside the product layers: loaded only when asked for.
    from tradewind.testing.container_kubelet import ContainerEngine
    from tradewind.testing.fake_cluster import FakeCluster

    engine = None
    if args.containers:
        engine = ContainerEngine.from_command_line(args.engine_run or os.environ.get(ENGINE_RUN_ENV) or "podman run")
    elif args.engine_run:
        raise ConfigError("--engine-run needs --containers", key="--engine-run")
    claims = {name: Path(directory).expanduser().resolve() for name, directory in _pairs(args.claim, "--claim")}
    image_env = dict(_pairs(args.env, "--env"))
    work_dir = args.work_dir or Path(tempfile.mkdtemp(prefix="tradewind-fake-cluster-"))
    cluster = FakeCluster(
        work_dir, port=args.port, claim_dirs=claims, namespaces=("default", *args.namespace), image_env=image_env,
        kubeconfig_path=args.kubeconfig.expanduser().resolve() if args.kubeconfig else None,
        containers=engine,
    )
    stop = threading.Event()

    def _on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = signal.signal(signal.SIGTERM, _on_signal)
    cluster.start()
    try:
        print(f"fake Kubernetes API server on {cluster.url}", flush=True)
        if engine is not None:
            print(f"pods run as containers: {shlex.join(engine.run_prefix)}", flush=True)
        print(f"kubeconfig: {cluster.kubeconfig_path}", flush=True)
        print(f"  export KUBECONFIG={cluster.kubeconfig_path}", flush=True)
        print(f"  export TRADEWIND__KUBERNETES__CONFIG_FILE={cluster.kubeconfig_path}", flush=True)
        print("stop with Ctrl-C or SIGTERM", flush=True)
        while not stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        cluster.stop()
        signal.signal(signal.SIGTERM, previous)
    return 0
