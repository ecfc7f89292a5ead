"""The fake API server, exercised through the official client: it must behave as a real one does."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
import urllib3
from kubernetes import config, watch
from kubernetes.client import ApiClient, ApiException, Configuration, CoreV1Api
from tests.waiting import wait_for

from tradewind.testing.fake_cluster import FakeCluster


def plain_pod(name: str, labels: dict[str, str] | None = None, **spec: object) -> dict[str, object]:
    # No command: the process kubelet cannot start these, so they stay put while we look at them.
    return {
        "metadata": {"name": name, "labels": labels or {}},
        "spec": {"schedulerName": "nobody", "containers": [{"name": "base", "image": "busybox:1"}], **spec},
    }


def names(pods: object) -> list[str]:
    return sorted(p.metadata.name for p in pods.items)  # type: ignore[attr-defined]


def test_kubeconfig_loads_with_load_kube_config(fake_cluster: FakeCluster) -> None:
    configuration = Configuration()
    config.load_kube_config(
        config_file=str(fake_cluster.kubeconfig_path), context=fake_cluster.context,
        client_configuration=configuration,
    )
    api = CoreV1Api(ApiClient(configuration))
    assert "default" in [n.metadata.name for n in api.list_namespace().items]


def test_created_objects_get_server_fields_and_generated_names(core_api: CoreV1Api) -> None:
    pod = core_api.create_namespaced_pod("default", {
        "metadata": {"generateName": "worker-"},
        "spec": {"schedulerName": "nobody", "containers": [{"name": "base", "image": "busybox:1"}]},
    })
    assert pod.metadata.name.startswith("worker-") and len(pod.metadata.name) == len("worker-") + 5
    assert pod.metadata.uid and pod.metadata.creation_timestamp and int(pod.metadata.resource_version) > 0
    assert pod.status.phase == "Pending"
    assert pod.spec.service_account_name == "default"


def test_duplicate_name_is_409_already_exists(core_api: CoreV1Api) -> None:
    core_api.create_namespaced_pod("default", plain_pod("twin"))
    with pytest.raises(ApiException) as info:
        core_api.create_namespaced_pod("default", plain_pod("twin"))
    assert info.value.status == 409
    assert '"reason":"AlreadyExists"' in info.value.body


def test_missing_objects_are_404_status_objects(core_api: CoreV1Api) -> None:
    with pytest.raises(ApiException) as info:
        core_api.read_namespaced_pod("ghost", "default")
    assert info.value.status == 404
    assert 'pods \\"ghost\\" not found' in info.value.body
    with pytest.raises(ApiException) as info:
        core_api.create_namespaced_pod("no-such-namespace", plain_pod("p"))
    assert info.value.status == 404


def test_invalid_label_value_is_rejected_422(core_api: CoreV1Api) -> None:
    with pytest.raises(ApiException) as info:
        core_api.create_namespaced_pod("default", plain_pod("bad", {"run_id": "manual__2024-01-01T00:00:00+00:00"}))
    assert info.value.status == 422


@pytest.mark.parametrize(
    ("selector", "expected"),
    [
        ("app=a", ["p1", "p2"]),
        ("app==a", ["p1", "p2"]),
        ("app!=a", ["p3", "p4"]),
        ("tier in (web, db)", ["p1", "p3"]),
        ("tier notin (web)", ["p2", "p3", "p4"]),
        ("tier", ["p1", "p2", "p3"]),
        ("!tier", ["p4"]),
        ("app=a,tier=web", ["p1"]),
    ],
)
def test_label_selectors_filter_lists(core_api: CoreV1Api, selector: str, expected: list[str]) -> None:
    for name, labels in [
        ("p1", {"app": "a", "tier": "web"}),
        ("p2", {"app": "a", "tier": "batch"}),
        ("p3", {"app": "b", "tier": "db"}),
        ("p4", {"app": "b"}),
    ]:
        core_api.create_namespaced_pod("default", plain_pod(name, labels))
    assert names(core_api.list_namespaced_pod("default", label_selector=selector)) == expected


def test_field_selectors_filter_lists(core_api: CoreV1Api) -> None:
    core_api.create_namespaced_pod("default", plain_pod("alpha"))
    core_api.create_namespaced_pod("default", plain_pod("beta", nodeName="elsewhere"))
    assert names(core_api.list_namespaced_pod("default", field_selector="metadata.name=alpha")) == ["alpha"]
    assert names(core_api.list_namespaced_pod("default", field_selector="spec.nodeName=elsewhere")) == ["beta"]
    assert names(core_api.list_pod_for_all_namespaces(field_selector="status.phase=Pending,metadata.name!=beta")) \
        == ["alpha"]
    with pytest.raises(ApiException) as info:
        core_api.list_namespaced_pod("default", field_selector="spec.image=x")
    assert info.value.status == 400


def test_list_carries_a_resource_version_that_moves_with_writes(core_api: CoreV1Api) -> None:
    before = int(core_api.list_namespaced_pod("default").metadata.resource_version)
    core_api.create_namespaced_pod("default", plain_pod("p"))
    after = int(core_api.list_namespaced_pod("default").metadata.resource_version)
    assert after > before


def test_watch_resumes_from_a_resource_version(core_api: CoreV1Api) -> None:
    start = core_api.list_namespaced_pod("default").metadata.resource_version
    first = core_api.create_namespaced_pod("default", plain_pod("first"))
    core_api.create_namespaced_pod("default", plain_pod("second"))
    seen = [(e["type"], e["object"].metadata.name) for e in watch.Watch().stream(
        core_api.list_namespaced_pod, "default", resource_version=start, timeout_seconds=1)]
    assert seen == [("ADDED", "first"), ("ADDED", "second")]
    resumed = [e["object"].metadata.name for e in watch.Watch().stream(
        core_api.list_namespaced_pod, "default", resource_version=first.metadata.resource_version,
        timeout_seconds=1)]
    assert resumed == ["second"]


def test_watch_with_selector_sees_objects_leave_it(core_api: CoreV1Api) -> None:
    core_api.create_namespaced_pod("default", plain_pod("p", {"team": "x"}))
    rv = core_api.list_namespaced_pod("default").metadata.resource_version
    core_api.patch_namespaced_pod("p", "default", {"metadata": {"labels": {"team": "y"}}})
    events = [e["type"] for e in watch.Watch().stream(
        core_api.list_namespaced_pod, "default", label_selector="team=x", resource_version=rv, timeout_seconds=1)]
    assert events == ["DELETED"]


def test_watch_from_a_compacted_version_gets_410(fake_cluster: FakeCluster, core_api: CoreV1Api) -> None:
    old = core_api.list_namespaced_pod("default").metadata.resource_version
    core_api.create_namespaced_pod("default", plain_pod("p"))
    fake_cluster.server.compact()
    with pytest.raises(ApiException) as info:
        list(watch.Watch().stream(core_api.list_namespaced_pod, "default", resource_version=old, timeout_seconds=1))
    assert info.value.status == 410


def test_history_is_bounded(tmp_path: Path) -> None:
    with FakeCluster(tmp_path / "small", history_size=5) as cluster:
        api = CoreV1Api(config.new_client_from_config(config_file=str(cluster.kubeconfig_path)))
        old = api.list_namespaced_pod("default").metadata.resource_version
        for i in range(10):
            api.create_namespaced_config_map("default", {"metadata": {"name": f"c{i}"}})
        with pytest.raises(ApiException) as info:
            list(watch.Watch().stream(api.list_namespaced_pod, "default", resource_version=old, timeout_seconds=1))
        assert info.value.status == 410


def test_timeout_seconds_ends_a_watch(core_api: CoreV1Api) -> None:
    done = threading.Event()

    def run() -> None:
        list(watch.Watch().stream(core_api.list_namespaced_pod, "default", timeout_seconds=1))
        done.set()

    threading.Thread(target=run, daemon=True).start()
    assert done.wait(10), "a watch with timeoutSeconds=1 was still open after 10 s"


def test_bookmarks_carry_the_resource_version(tmp_path: Path) -> None:
    with FakeCluster(tmp_path / "bookmarks", bookmark_interval=0.2) as cluster:
        response = urllib3.PoolManager().request(
            "GET", f"{cluster.url}/api/v1/namespaces/default/pods?watch=true&allowWatchBookmarks=true"
            "&timeoutSeconds=1", preload_content=False)
        body = response.read().decode()
    rv = str(cluster.server.store.resource_version)
    assert f'"type":"BOOKMARK","object":{{"kind":"Pod","apiVersion":"v1","metadata":{{"resourceVersion":"{rv}"' \
        in body


def test_finalizers_hold_a_deleted_object_until_cleared(core_api: CoreV1Api) -> None:
    core_api.create_namespaced_pod("default", {**plain_pod("held"),
                                               "metadata": {"name": "held", "finalizers": ["example.com/x"]}})
    core_api.delete_namespaced_pod("held", "default")
    pod = core_api.read_namespaced_pod("held", "default")
    assert pod.metadata.deletion_timestamp is not None
    core_api.patch_namespaced_pod("held", "default", [{"op": "remove", "path": "/metadata/finalizers"}])
    with pytest.raises(ApiException) as info:
        core_api.read_namespaced_pod("held", "default")
    assert info.value.status == 404


def test_status_subresource_changes_only_status(core_api: CoreV1Api) -> None:
    core_api.create_namespaced_pod("default", plain_pod("s", {"a": "1"}))
    core_api.patch_namespaced_pod_status("s", "default", {"metadata": {"labels": {"a": "2"}},
                                                          "status": {"phase": "Running"}})
    pod = core_api.read_namespaced_pod("s", "default")
    assert pod.status.phase == "Running" and pod.metadata.labels == {"a": "1"}
    core_api.patch_namespaced_pod("s", "default", {"status": {"phase": "Failed"}})
    assert core_api.read_namespaced_pod("s", "default").status.phase == "Running"


@pytest.mark.parametrize(
    ("code", "needle"),
    [(500, "InternalError"), (429, "TooManyRequests"), (403, "exceeded quota"), (409, "AlreadyExists")],
)
def test_injected_create_failures_reach_the_client(
    fake_cluster: FakeCluster, core_api: CoreV1Api, code: int, needle: str
) -> None:
    fake_cluster.faults.fail_next_creates(1, code, retry_after=7)
    with pytest.raises(ApiException) as info:
        core_api.create_namespaced_pod("default", plain_pod("victim"))
    assert info.value.status == code
    assert needle in info.value.body
    if code == 429:
        assert info.value.headers["Retry-After"] == "7"
    core_api.create_namespaced_pod("default", plain_pod("victim"))  # only the next one failed


def test_injected_410_on_the_next_watch(fake_cluster: FakeCluster, core_api: CoreV1Api) -> None:
    rv = core_api.list_namespaced_pod("default").metadata.resource_version
    fake_cluster.faults.expire_next_watches(1)
    with pytest.raises(ApiException) as info:
        list(watch.Watch().stream(core_api.list_namespaced_pod, "default", resource_version=rv, timeout_seconds=1))
    assert info.value.status == 410
    assert list(watch.Watch().stream(core_api.list_namespaced_pod, "default", resource_version=rv,
                                     timeout_seconds=1)) == []


def test_dropped_watch_breaks_the_clients_connection(fake_cluster: FakeCluster, core_api: CoreV1Api) -> None:
    errors: list[BaseException] = []
    started = threading.Event()

    def run() -> None:
        try:
            response = core_api.list_namespaced_pod("default", watch=True, timeout_seconds=30,
                                                    _preload_content=False)
            started.set()
            for _chunk in response.stream(1024):
                pass
        except Exception as exc:
            errors.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    started.wait(5)
    wait_for(lambda: fake_cluster.server.drop_watches() > 0, what="an open watch to drop")
    thread.join(10)
    assert not thread.is_alive()
    assert errors and isinstance(errors[0], urllib3.exceptions.HTTPError)


def test_deleting_a_namespace_deletes_its_objects(core_api: CoreV1Api) -> None:
    core_api.create_namespace({"metadata": {"name": "scratch"}})
    core_api.create_namespaced_config_map("scratch", {"metadata": {"name": "cm"}, "data": {"k": "v"}})
    core_api.delete_namespace("scratch")
    assert core_api.list_config_map_for_all_namespaces(field_selector="metadata.namespace=scratch").items == []


def test_list_pages_with_limit_and_continue(core_api: CoreV1Api) -> None:
    for i in range(5):
        core_api.create_namespaced_config_map("default", {"metadata": {"name": f"cm{i}"}})
    first = core_api.list_namespaced_config_map("default", limit=2)
    assert len(first.items) == 2 and first.metadata._continue
    rest = core_api.list_namespaced_config_map("default", limit=10, _continue=first.metadata._continue)
    assert [c.metadata.name for c in first.items + rest.items] == [f"cm{i}" for i in range(5)]



def test_injected_watch_failure_is_an_http_error(fake_cluster: FakeCluster, core_api: CoreV1Api) -> None:
    fake_cluster.faults.fail_next_watches(1, 500)
    with pytest.raises(ApiException) as info:
        list(watch.Watch().stream(core_api.list_namespaced_pod, "default", timeout_seconds=1))
    assert info.value.status == 500
