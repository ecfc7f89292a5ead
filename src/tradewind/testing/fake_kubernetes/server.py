"""FakeKubernetes: the fake API server on 127.0.0.1 (uvicorn in a background thread) and its test handle."""

from __future__ import annotations

import base64
import logging
import socket
import threading
import time
from pathlib import Path
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from tradewind.testing.fake_kubernetes.api_routes import ApiHandlers
from tradewind.testing.fake_kubernetes.faults import (
    KUBELET_USER_AGENT,
    POD_FAULT_ANNOTATION,
    Faults,
    PodFault,
)
from tradewind.testing.fake_kubernetes.kubeconfig import DEFAULT_CONTEXT, write_kubeconfig
from tradewind.testing.fake_kubernetes.objects import KINDS
from tradewind.testing.fake_kubernetes.statuses import ApiError
from tradewind.testing.fake_kubernetes.store import ObjectStore
from tradewind.testing.fake_kubernetes.watch_stream import WatchDropped

ALL_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"]
FAKE_VERSION = {"major": "1", "minor": "30", "gitVersion": "v1.30.0-tradewind-fake", "platform": "linux/amd64"}


class _HideDroppedWatches(logging.Filter):
    """uvicorn logs every exception that ends a response; an injected watch drop is not news."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.exc_info and isinstance(record.exc_info[1], WatchDropped))


class FakeKubernetes:
    """A Kubernetes API server for tests: real JSON over HTTP, in-memory storage, injectable faults.

    ``work_dir`` holds the node log directory (shared with the process kubelet) and the kubeconfig.
    """

    def __init__(
        self,
        work_dir: Path,
        *,
        port: int = 0,
        history_size: int = 1000,
        bookmark_interval: float = 5.0,
        namespaces: tuple[str, ...] = ("default",),
    ) -> None:
        self.work_dir = Path(work_dir)
        self.log_dir = self.work_dir / "node-logs"
        self.store = ObjectStore(history_size=history_size)
        self.faults = Faults()
        self.port = port
        self._namespaces = namespaces
        self._bookmark_interval = bookmark_interval
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._log_filter = _HideDroppedWatches()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    # -- life-cycle ---------------------------------------------------------------------------------
    def start(self, timeout: float = 10.0) -> FakeKubernetes:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        for namespace in ("kube-system", *self._namespaces):
            self.create_namespace(namespace)
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", self.port))
        self.port = sock.getsockname()[1]
        config = uvicorn.Config(
            self.app(),
            log_level="warning",
            access_log=False,
            lifespan="off",
            ws="none",
            timeout_graceful_shutdown=1,
            # Like a real API server, keep idle connections long: clients reuse them freely.
            timeout_keep_alive=120,
        )
        self._server = uvicorn.Server(config)
        logging.getLogger("uvicorn.error").addFilter(self._log_filter)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [sock]}, name="fake-kubernetes", daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError(f"the fake Kubernetes API server did not start on port {self.port}")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        if self._server is None:
            return
        self.store.close_watchers(abrupt=False)
        self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)
        logging.getLogger("uvicorn.error").removeFilter(self._log_filter)
        self._server = None

    def __enter__(self) -> FakeKubernetes:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def write_kubeconfig(self, path: Path | None = None, *, context: str = DEFAULT_CONTEXT,
                         namespace: str = "default") -> Path:
        return write_kubeconfig(path or self.work_dir / "kubeconfig", self.url, context=context,
                                namespace=namespace)

    # -- the app ------------------------------------------------------------------------------------
    def app(self) -> Starlette:
        handlers = ApiHandlers(self.store, self.faults, self.log_dir, self._bookmark_interval)
        return Starlette(
            routes=[
                Route("/api/v1/{path:path}", handlers.dispatch, methods=ALL_METHODS),
                Route("/api/v1", self._resource_list),
                Route("/api", self._api_versions),
                Route("/apis", lambda r: JSONResponse({"kind": "APIGroupList", "apiVersion": "v1", "groups": []})),
                Route("/version", lambda r: JSONResponse(FAKE_VERSION)),
                Route("/healthz", lambda r: PlainTextResponse("ok")),
                Route("/readyz", lambda r: PlainTextResponse("ok")),
                Route("/livez", lambda r: PlainTextResponse("ok")),
                Route("/_fake/faults", self._admin_faults, methods=["POST"]),
            ]
        )

    async def _api_versions(self, request: Request) -> Response:
        return JSONResponse({
            "kind": "APIVersions",
            "versions": ["v1"],
            "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": f"127.0.0.1:{self.port}"}],
        })

    async def _resource_list(self, request: Request) -> Response:
        resources = []
        for kind in KINDS.values():
            verbs = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"]
            resources.append({"name": kind.resource, "singularName": kind.kind.lower(), "namespaced": kind.namespaced,
                              "kind": kind.kind, "verbs": verbs})
        for sub in ("pods/status", "pods/log", "pods/binding"):
            resources.append({"name": sub, "singularName": "", "namespaced": True, "kind": "Pod", "verbs": ["get"]})
        return JSONResponse({"kind": "APIResourceList", "groupVersion": "v1", "resources": resources})

    async def _admin_faults(self, request: Request) -> Response:
        """Fault injection over HTTP, for a fake cluster running in another process."""
        body = await request.json()
        action = body.get("action")
        try:
            if action == "fail-creates":
                self.faults.fail_next_creates(
                    int(body.get("count", 1)), int(body.get("code", 500)), retry_after=body.get("retryAfter")
                )
            elif action == "fail-watches":
                self.faults.fail_next_watches(int(body.get("count", 1)), int(body.get("code", 500)))
            elif action == "expire-watches":
                self.faults.expire_next_watches(int(body.get("count", 1)))
            elif action == "drop-watches":
                return JSONResponse({"dropped": self.drop_watches(abrupt=bool(body.get("abrupt", True)))})
            elif action == "compact":
                return JSONResponse({"compactedAt": self.compact()})
            elif action == "fault-pod":
                self.fault_pod(body["namespace"], body["name"], body["fault"])
            elif action == "fault-next-pods":
                self.faults.fault_next_pods(body["fault"], label_selector=body.get("labelSelector", ""),
                                            count=int(body.get("count", 1)))
            elif action == "clear":
                self.faults.clear()
            else:
                return JSONResponse({"error": f"unknown action {action!r}"}, status_code=400)
        except (KeyError, ValueError) as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)
        except ApiError as exc:
            return JSONResponse(exc.status, status_code=exc.code)
        return JSONResponse({"ok": True})

    # -- faults that act on the stored state --------------------------------------------------------
    def drop_watches(self, *, abrupt: bool = True, include_kubelet: bool = False) -> int:
        """Break the open watch connections of clients (the kubelet's too if asked)."""
        return self.store.close_watchers(abrupt=abrupt, sparing=None if include_kubelet else KUBELET_USER_AGENT)

    def compact(self) -> int:
        """Forget the event history: a watch resuming from an older resourceVersion gets 410 Expired."""
        return self.store.compact()

    def fault_pod(self, namespace: str, name: str, fault: PodFault | str) -> dict[str, Any]:
        """Make a pod misbehave now (the process kubelet acts on the annotation)."""
        value = str(PodFault(fault))

        def change(pod: dict[str, Any]) -> dict[str, Any]:
            pod["metadata"].setdefault("annotations", {})[POD_FAULT_ANNOTATION] = value
            return pod

        return self.store.update("pods", namespace, name, change)

    # -- seeding ------------------------------------------------------------------------------------
    def create_namespace(self, name: str) -> None:
        if self.store.find("namespaces", None, name) is None:
            self.store.create("namespaces", None, {"metadata": {"name": name}})
            self.store.create("serviceaccounts", name, {"metadata": {"name": "default"}})

    def create_secret(self, namespace: str, name: str, data: dict[str, str]) -> None:
        encoded = {k: base64.b64encode(v.encode()).decode() for k, v in data.items()}
        self.store.create("secrets", namespace, {"metadata": {"name": name}, "data": encoded})

    def create_configmap(self, namespace: str, name: str, data: dict[str, str]) -> None:
        self.store.create("configmaps", namespace, {"metadata": {"name": name}, "data": dict(data)})
