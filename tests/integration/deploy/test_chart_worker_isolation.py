"""Workers hold no database credentials: the Secret split, the execution API's URL and signing key, the
NetworkPolicies that keep workers off the database, and the trusted proxies of the webserver behind an Ingress."""

from __future__ import annotations

import base64
import ipaddress
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from tradewind.core.workload import ExecuteTask

from .conftest import (
    CI_VALUES,
    EXAMPLE_VALUES,
    KUBE_VERSION,
    OLDEST_KUBE_VERSION,
    Manifest,
    by_kind,
    container_env,
    helm_template,
    load_settings_as,
    named,
    parse_manifests,
    toml_of,
    worker_pod_template,
)

pod_identity = pytest.importorskip("tradewind.executors.kubernetes.pod_identity")

Render = Callable[..., list[Manifest]]
WORKLOAD = ExecuteTask(dag_id="etl", task_id="load", run_id="manual__2024-01-01", try_number=1)
CI = {p.name.removesuffix("-values.yaml"): p for p in CI_VALUES}
ALL_CASES = (
    [pytest.param((), id="defaults")]
    + [pytest.param((p,), id=name) for name, p in CI.items()]
    + [pytest.param((p,), id="example-" + p.name.removesuffix("-values.yaml")) for p in EXAMPLE_VALUES]
)
DATABASE_USERS = ("scheduler", "triggerer", "webserver", "migrate", "create-admin")
JWT_ENV = "TRADEWIND__EXECUTION_API__JWT_SECRET"
API_URL = "http://tw-tradewind-webserver.data.svc:8080/execution"


def _executor(values: tuple[Path, ...]) -> str:
    chosen = yaml.safe_load(values[0].read_text()) if values else {}
    return str(chosen.get("executor", "kubernetes"))


def _containers(spec: dict[str, Any]) -> list[dict[str, Any]]:
    return [*spec.get("initContainers", []), *spec["containers"]]


def _pods(manifests: list[Manifest]) -> list[tuple[str, str, dict[str, str], dict[str, Any]]]:
    """(component, namespace, pod labels, pod spec) of every workload and of the worker pod template."""
    pods = []
    for m in manifests:
        if m["kind"] in ("Deployment", "StatefulSet", "Job"):
            template = m["spec"]["template"]
            labels = template["metadata"]["labels"]
            pods.append(
                (labels["app.kubernetes.io/component"], m["metadata"]["namespace"], labels, template["spec"])
            )
    if [m for m in by_kind(manifests, "ConfigMap") if m["metadata"]["name"].endswith("-pod-template")]:
        pod = worker_pod_template(manifests)
        namespace = tomllib.loads(toml_of(manifests))["kubernetes"]["namespace"]
        # The executor adds its identity labels to the template's, last (pod_spec.build_worker_pod).
        labels = {**pod["metadata"]["labels"], **pod_identity.worker_labels(WORKLOAD, "scheduler-0")}
        pods.append(("worker", namespace, labels, pod["spec"]))
    return pods


def _database_secrets(manifests: list[Manifest], values: tuple[Path, ...]) -> tuple[set[str], set[str]]:
    """What a worker must never see: the Secrets and the values that carry database credentials."""
    chosen = yaml.safe_load(values[0].read_text()) if values else {}
    names = {"tw-tradewind-env", "tw-tradewind-postgresql"}
    if existing := chosen.get("externalDatabase", {}).get("existingSecret"):
        names.add(existing)
    found = set()
    for secret in by_kind(manifests, "Secret"):
        if secret["metadata"]["name"] in names:
            data = secret["data"]
            found |= {
                base64.b64decode(data[k]).decode()
                for k in ("TRADEWIND__DATABASE__URL", "password")
                if k in data
            }
    return names, found


def _secret_refs(spec: dict[str, Any]) -> set[str]:
    """Every Secret a pod spec references: envFrom, env, volumes."""
    refs = {v["secret"]["secretName"] for v in spec.get("volumes", []) if "secret" in v}
    for container in _containers(spec):
        refs |= {s["secretRef"]["name"] for s in container.get("envFrom", []) if "secretRef" in s}
        refs |= {
            e["valueFrom"]["secretKeyRef"]["name"]
            for e in container.get("env", [])
            if "secretKeyRef" in e.get("valueFrom", {})
        }
    return refs


# -- the Secret split -------------------------------------------------------------------------------------


@pytest.mark.parametrize("values", ALL_CASES)
def test_workers_get_no_database_credentials_and_services_do(
    render: Render, values: tuple[Path, ...]
) -> None:
    manifests = render(values=values)
    secrets, credentials = _database_secrets(manifests, values)
    assert credentials or secrets - {"tw-tradewind-env", "tw-tradewind-postgresql"}, "nothing to look for"
    seen = set()
    for component, namespace, _, spec in _pods(manifests):
        seen.add(component)
        if component in ("celery-worker", "worker"):
            assert not _secret_refs(spec) & secrets, f"{component} references a database Secret"
            assert not [c for c in credentials if c in yaml.safe_dump(spec)], (
                f"{component} spec holds credentials"
            )
        for container in _containers(spec):
            where = f"{component} container {container['name']}"
            env = container_env(manifests, container, namespace=namespace)
            if component in ("celery-worker", "worker"):
                assert "TRADEWIND__DATABASE__URL" not in env, where
                assert not credentials & set(env.values()), f"{where} can read database credentials"
            elif component in DATABASE_USERS and not container["name"].startswith("git-sync"):
                assert env.get("TRADEWIND__DATABASE__URL", "").startswith(("postgresql://", "<")), where
    workers = {"kubernetes": "worker", "celery": "celery-worker"}.get(_executor(values))
    assert workers is None or workers in seen


def test_celery_workers_get_only_the_broker(render: Render) -> None:
    manifests = render(values=[CI["celery"]])
    worker = named(manifests, "Deployment", "-celery-worker")["spec"]["template"]["spec"]
    assert "wait-for-migrations" not in [c["name"] for c in _containers(worker)]
    env = container_env(manifests, worker["containers"][0])
    secret_keys = {k for k in env if k.startswith("TRADEWIND__") and k != "TRADEWIND__CORE__HOSTNAME"}
    assert secret_keys == {"TRADEWIND__CELERY__BROKER_URL", "TRADEWIND__CELERY__RESULT_BACKEND"}
    scheduler = named(manifests, "Deployment", "-scheduler")["spec"]["template"]["spec"]["containers"][0]
    assert (
        container_env(manifests, scheduler)["TRADEWIND__CELERY__BROKER_URL"]
        == env["TRADEWIND__CELERY__BROKER_URL"]
    )
    # A broker Secret of the user's replaces the chart's, for workers as for the scheduler.
    external = render(values=[CI["celery-external-broker"]], sets=["celery.existingSecret=my-broker"])
    worker = named(external, "Deployment", "-celery-worker")["spec"]["template"]["spec"]["containers"][0]
    assert worker["envFrom"] == [
        {"configMapRef": {"name": "tw-tradewind-env"}},
        {"secretRef": {"name": "my-broker"}},
    ]
    assert not [
        s for s in by_kind(external, "Secret") if s["metadata"]["name"] == "tw-tradewind-celery-worker"
    ]


def test_worker_pods_can_get_a_secret_of_the_users_own(render: Render) -> None:
    manifests = render(sets=["config.kubernetes.env_from_secret=task-credentials"])
    assert tomllib.loads(toml_of(manifests))["kubernetes"]["env_from_secret"] == "task-credentials"


# -- the execution API ------------------------------------------------------------------------------------


@pytest.mark.parametrize("values", ALL_CASES)
def test_signing_key_goes_to_the_scheduler_and_webserver_only(
    render: Render, values: tuple[Path, ...], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    manifests = render(values=values)
    secret = named(manifests, "Secret", "-execution-api")
    key = base64.b64decode(secret["data"]["jwt-secret"]).decode()
    assert len(key) >= 32
    holders = []
    for component, namespace, _, spec in _pods(manifests):
        for container in _containers(spec):
            if "tw-tradewind-execution-api" in yaml.safe_dump(container):
                holders.append((component, container["name"]))
                assert container_env(manifests, container, namespace=namespace)[JWT_ENV] == key
    assert sorted(holders) == [("scheduler", "scheduler"), ("webserver", "webserver")]
    # Both load the same key through Tradewind's own settings.
    for suffix in ("-scheduler", "-webserver"):
        container = named(manifests, "Deployment", suffix)["spec"]["template"]["spec"]["containers"][0]
        settings = load_settings_as(
            container_env(manifests, container), toml_of(manifests), tmp_path / suffix, monkeypatch
        )
        assert settings.execution_api.jwt_secret is not None
        assert settings.execution_api.jwt_secret.get_secret_value() == key


def test_signing_key_is_generated_per_install_or_given(helm: Path, render: Render) -> None:
    first, second = (
        named(parse_manifests(helm_template(helm).stdout), "Secret", "-execution-api") for _ in range(2)
    )
    a, b = (base64.b64decode(s["data"]["jwt-secret"]).decode() for s in (first, second))
    assert a != b and len(a) == 64 and a.isalnum()
    given = render(sets=["executionApi.jwtSecret=a-signing-key-given-in-values-of-32-chars"])
    secret = named(given, "Secret", "-execution-api")
    assert (
        base64.b64decode(secret["data"]["jwt-secret"]).decode() == "a-signing-key-given-in-values-of-32-chars"
    )
    existing = render(sets=["executionApi.existingSecret=my-jwt"])
    assert not [s for s in by_kind(existing, "Secret") if s["metadata"]["name"].endswith("-execution-api")]
    scheduler = named(existing, "Deployment", "-scheduler")["spec"]["template"]["spec"]["containers"][0]
    (ref,) = [e["valueFrom"]["secretKeyRef"] for e in scheduler["env"] if e["name"] == JWT_ENV]
    assert ref == {"name": "my-jwt", "key": "jwt-secret"}


@pytest.mark.parametrize("values", ALL_CASES)
def test_runners_are_pointed_at_the_webservers_execution_api(
    render: Render, values: tuple[Path, ...], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    manifests = render(values=values)
    settings = tomllib.loads(toml_of(manifests))
    executor = _executor(values)
    if executor == "local":
        # The local executor's tries call the scheduler's own loopback API.
        assert "url" not in settings.get("execution_api", {})
        return
    assert settings["execution_api"]["url"] == API_URL
    runner = (
        named(manifests, "Deployment", "-celery-worker")["spec"]["template"]["spec"]["containers"][0]
        if executor == "celery"
        else worker_pod_template(manifests)["spec"]["containers"][0]
    )
    loaded = load_settings_as(
        container_env(manifests, runner), toml_of(manifests), tmp_path / "home", monkeypatch
    )
    assert loaded.execution_api.url == API_URL
    assert loaded.execution_api.jwt_secret is None
    service = named(manifests, "Service", "-webserver")
    assert service["spec"]["ports"][0]["port"] == 8080
    assert any(p["containerPort"] == 8080 for p in _webserver_container(manifests)["ports"])


def _webserver_container(manifests: list[Manifest]) -> dict[str, Any]:
    container: dict[str, Any] = named(manifests, "Deployment", "-webserver")["spec"]["template"]["spec"][
        "containers"
    ][0]
    return container


@pytest.mark.parametrize(
    ("sets", "url"),
    [
        (["webserver.service.port=9090"], "http://tw-tradewind-webserver.data.svc:9090/execution"),
        (
            ["executionApi.url=https://tradewind.example.com/execution"],
            "https://tradewind.example.com/execution",
        ),
        (["executor=celery"], API_URL),
    ],
)
def test_execution_api_url_follows_the_service_or_the_value(
    render: Render, sets: list[str], url: str
) -> None:
    assert tomllib.loads(toml_of(render(sets=sets)))["execution_api"]["url"] == url


# -- trusted proxies ------------------------------------------------------------------------------------


def test_webserver_trusts_private_ranges_behind_its_ingress_and_nothing_without(
    render: Render, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    without = tomllib.loads(toml_of(render()))["webserver"]
    assert "forwarded_allow_ips" not in without
    manifests = render(values=[CI["kubernetes-git-ingress"]])
    trusted = tomllib.loads(toml_of(manifests))["webserver"]["forwarded_allow_ips"]
    networks = [ipaddress.ip_network(item.strip()) for item in trusted.split(",")]
    assert not [n for n in networks if n.is_global]
    assert ipaddress.ip_address("10.244.1.7") in networks[0]  # a usual pod address of an ingress controller
    settings = load_settings_as(
        container_env(manifests, _webserver_container(manifests)), toml_of(manifests), tmp_path, monkeypatch
    )
    assert settings.webserver.forwarded_allow_ips == trusted
    chosen = render(sets=["webserver.ingress.enabled=true", "webserver.forwardedAllowIps=10.42.0.0/16"])
    assert tomllib.loads(toml_of(chosen))["webserver"]["forwarded_allow_ips"] == "10.42.0.0/16"


# -- NetworkPolicies ------------------------------------------------------------------------------------

NETWORK_CASES = [
    pytest.param((), id="defaults"),
    pytest.param((CI["kubernetes-multi-namespace"],), id="kubernetes-multi-namespace"),
    pytest.param((CI["kubernetes-git-ingress"],), id="kubernetes-git-ingress"),
    pytest.param((CI["celery"],), id="celery"),
    pytest.param((CI["local"],), id="local"),
]


def selects(selector: dict[str, Any], labels: dict[str, str]) -> bool:
    """Kubernetes label selector semantics (matchLabels and matchExpressions)."""
    if any(labels.get(k) != v for k, v in (selector.get("matchLabels") or {}).items()):
        return False
    for expr in selector.get("matchExpressions") or []:
        value, present = labels.get(expr["key"]), expr["key"] in labels
        ok = {
            "In": present and value in expr.get("values", []),
            "NotIn": not present or value not in expr.get("values", []),
            "Exists": present,
            "DoesNotExist": not present,
        }[expr["operator"]]
        if not ok:
            return False
    return True


def peer_selects(peer: dict[str, Any], policy_ns: str, pod_ns: str, labels: dict[str, str]) -> bool:
    if "ipBlock" in peer:
        return False
    if "namespaceSelector" in peer:
        if not selects(peer["namespaceSelector"], {"kubernetes.io/metadata.name": pod_ns}):
            return False
    elif pod_ns != policy_ns:
        return False
    return selects(peer.get("podSelector", {}), labels)


def egress_allows(
    policies: list[Manifest], ns: str, labels: dict[str, str], dest: tuple[str, dict[str, str]], port: int
) -> bool:
    """Whether the egress policies selecting a pod (ns, labels) let it open TCP ``port`` on a pod ``dest``."""
    mine = [
        p for p in policies if p["metadata"]["namespace"] == ns and selects(p["spec"]["podSelector"], labels)
    ]
    mine = [p for p in mine if "Egress" in p["spec"]["policyTypes"]]
    if not mine:
        return True
    for policy in mine:
        for rule in policy["spec"].get("egress", []):
            ports = rule.get("ports")
            if ports is not None and not any(
                p.get("port") == port and p.get("protocol", "TCP") == "TCP" for p in ports
            ):
                continue
            peers = rule.get("to")
            if peers is None or any(peer_selects(peer, ns, dest[0], dest[1]) for peer in peers):
                return True
    return False


def ingress_allows(
    policies: list[Manifest], src: tuple[str, dict[str, str]], ns: str, labels: dict[str, str], port: int
) -> bool:
    """Whether the ingress policies selecting a pod (ns, labels) accept TCP ``port`` from a pod ``src``."""
    mine = [
        p for p in policies if p["metadata"]["namespace"] == ns and selects(p["spec"]["podSelector"], labels)
    ]
    mine = [p for p in mine if "Ingress" in p["spec"]["policyTypes"]]
    if not mine:
        return True
    for policy in mine:
        for rule in policy["spec"].get("ingress", []):
            ports = rule.get("ports")
            if ports is not None and not any(p.get("port") == port for p in ports):
                continue
            peers = rule.get("from")
            if peers is None or any(peer_selects(peer, ns, src[0], src[1]) for peer in peers):
                return True
    return False


def test_no_network_policies_unless_asked(render: Render) -> None:
    assert not by_kind(render(), "NetworkPolicy")


@pytest.mark.parametrize("values", NETWORK_CASES)
def test_network_policies_keep_workers_on_the_api_and_off_the_database(
    render: Render, values: tuple[Path, ...]
) -> None:
    manifests = render(values=values, sets=["networkPolicy.enabled=true"])
    policies = by_kind(manifests, "NetworkPolicy")
    bundled_database = [
        m for m in by_kind(manifests, "StatefulSet") if m["metadata"]["name"].endswith("-postgresql")
    ]
    assert bool(policies) == (_executor(values) != "local" or bool(bundled_database))
    for policy in policies:
        for version in (KUBE_VERSION, OLDEST_KUBE_VERSION):
            kubernetes_validate.validate(policy, version, strict=True)
    pods = {(c, ns): labels for c, ns, labels, _ in _pods(manifests)}
    by_component = {c: (ns, labels) for (c, ns), labels in pods.items()}
    executor = _executor(values)
    workers = [(ns, labels) for (c, ns), labels in pods.items() if c in ("worker", "celery-worker")]
    if executor == "kubernetes":
        # Every namespace the executor may place pods in has the workers' policy.
        chosen = yaml.safe_load(values[0].read_text()) if values else {}
        k = chosen.get("kubernetesExecutor", {})
        namespaces = {k.get("namespace") or "data", *k.get("extraNamespaces", [])}
        labels = workers[0][1]
        workers = [(ns, labels) for ns in sorted(namespaces)]
    assert bool(workers) == (executor != "local")
    webserver = by_component["webserver"]
    confined = list(workers)
    if executor == "kubernetes":
        # A task's pod_override may relabel its pod, even as the scheduler: it stays confined all the same.
        ns, labels = workers[0]
        confined.append((ns, {**labels, "app.kubernetes.io/component": "scheduler"}))
    for ns, labels in confined:
        assert [
            p
            for p in policies
            if p["metadata"]["namespace"] == ns and selects(p["spec"]["podSelector"], labels)
        ]
        assert egress_allows(policies, ns, labels, webserver, 8080), f"workers in {ns} cannot reach the API"
        if "postgresql" in by_component:
            assert not egress_allows(policies, ns, labels, by_component["postgresql"], 5432)
        if "redis" in by_component:
            assert egress_allows(policies, ns, labels, by_component["redis"], 6379)
        # Nothing else in the cluster on another port (the API of another pod, a database elsewhere).
        assert not egress_allows(policies, ns, labels, webserver, 5432)
    if "postgresql" in by_component:
        database = by_component["postgresql"]
        for component, src in by_component.items():
            allowed = ingress_allows(policies, src, database[0], database[1], 5432)
            assert allowed == (component in DATABASE_USERS), f"{component} -> PostgreSQL: {allowed}"
        for ns, labels in workers:
            assert not ingress_allows(policies, (ns, labels), database[0], database[1], 5432)
    if "redis" in by_component:
        broker = by_component["redis"]
        for component, src in by_component.items():
            allowed = ingress_allows(policies, src, broker[0], broker[1], 6379)
            assert allowed == (component in ("scheduler", "celery-worker")), f"{component} -> Redis"


@pytest.mark.parametrize(("case", "port"), [("celery", 22), ("kubernetes-git-ingress", 443)])
def test_workers_reach_the_git_server_in_git_mode(render: Render, case: str, port: int) -> None:
    manifests = render(values=[CI[case]], sets=["networkPolicy.enabled=true"])
    (policy,) = [p for p in by_kind(manifests, "NetworkPolicy") if "worker" in p["metadata"]["name"]]
    open_ports = {p["port"] for rule in policy["spec"]["egress"] if "to" not in rule for p in rule["ports"]}
    assert open_ports == {53, port}


def test_extra_worker_egress_is_appended(render: Render) -> None:
    rule = {"to": [{"ipBlock": {"cidr": "0.0.0.0/0", "except": ["10.0.0.0/8"]}}]}
    manifests = render(
        values=[CI["celery-external-broker"]],
        sets=["networkPolicy.enabled=true", "networkPolicy.workerEgress[0].to[0].ipBlock.cidr=0.0.0.0/0",
              "networkPolicy.workerEgress[0].to[0].ipBlock.except[0]=10.0.0.0/8"],
    )  # fmt: skip
    policy = named(manifests, "NetworkPolicy", "-celery-worker")
    assert policy["spec"]["egress"][-1] == rule
    assert not [p for p in by_kind(manifests, "NetworkPolicy") if p["metadata"]["name"].endswith("-redis")]


# -- connection secrets: the Fernet key and the mounted-files backend -------------------------------------

FERNET_ENV = "TRADEWIND__CORE__FERNET_KEY"


@pytest.mark.parametrize("values", ALL_CASES)
def test_fernet_key_goes_to_the_services_reading_connections_only(
    render: Render, values: tuple[Path, ...], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from cryptography.fernet import Fernet

    manifests = render(values=values)
    secret = named(manifests, "Secret", "-fernet-key")
    key = base64.b64decode(secret["data"]["fernet-key"]).decode()
    assert Fernet(key.encode()).decrypt(Fernet(key.encode()).encrypt(b"x")) == b"x"  # a valid Fernet key
    assert secret["metadata"]["annotations"]["helm.sh/resource-policy"] == "keep"
    holders = []
    for component, namespace, _, spec in _pods(manifests):
        for container in _containers(spec):
            if key in container_env(manifests, container, namespace=namespace).values():
                holders.append((component, container["name"]))
        assert "tw-tradewind-fernet-key" not in _secret_refs(spec) or component in (
            "scheduler", "triggerer", "webserver",
        )  # fmt: skip
    # The triggerer answers its triggers' connection reads (the trigger code itself runs without the key).
    assert sorted(holders) == [
        ("scheduler", "scheduler"),
        ("triggerer", "triggerer"),
        ("webserver", "webserver"),
    ]
    container = named(manifests, "Deployment", "-webserver")["spec"]["template"]["spec"]["containers"][0]
    settings = load_settings_as(
        container_env(manifests, container), toml_of(manifests), tmp_path, monkeypatch
    )
    assert settings.core.fernet_key is not None and settings.core.fernet_key.get_secret_value() == key


def test_fernet_key_is_generated_per_install_or_given(helm: Path, render: Render) -> None:
    first, second = (
        named(parse_manifests(helm_template(helm).stdout), "Secret", "-fernet-key") for _ in range(2)
    )
    assert first["data"] != second["data"]
    given_keys = "LGIpqn5ElzjVDmj7UApWbGTqqWTMX6OaXEHgVyMYVrQ=,4_a3NEVtf7UXD8k12NBgjsmXKkC6vmX6SGzlZ0eBVWo="
    escaped = given_keys.replace(",", "\\,")  # --set splits on commas
    given = render(sets=[f"fernetKey={escaped}"])
    assert (
        base64.b64decode(named(given, "Secret", "-fernet-key")["data"]["fernet-key"]).decode() == given_keys
    )
    existing = render(sets=["fernetKeySecretName=my-fernet"])
    assert not [s for s in by_kind(existing, "Secret") if s["metadata"]["name"].endswith("-fernet-key")]
    scheduler = named(existing, "Deployment", "-scheduler")["spec"]["template"]["spec"]["containers"][0]
    (ref,) = [e["valueFrom"]["secretKeyRef"] for e in scheduler["env"] if e["name"] == FERNET_ENV]
    assert ref == {"name": "my-fernet", "key": "fernet-key"}


def test_a_malformed_fernet_key_and_a_hand_set_secrets_path_are_refused(helm: Path) -> None:
    bad = helm_template(helm, sets=["fernetKey=not-a-key"])
    assert bad.returncode != 0 and "fernetKey" in bad.stderr
    clash = helm_template(helm, sets=["config.secrets.connections_path=/x"])
    assert clash.returncode != 0 and "secretFiles.connectionsSecret" in clash.stderr


@pytest.mark.parametrize("executor", ["kubernetes", "celery"])
def test_mounted_connection_secrets_reach_the_services_not_the_workers(
    render: Render, executor: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tradewind.secrets.chain import secrets_chain

    manifests = render(
        sets=[
            f"executor={executor}",
            "secretFiles.connectionsSecret=db-conns",
            "secretFiles.variablesSecret=vars",
        ]
    )
    mounts = {}
    for component, _, _, spec in _pods(manifests):
        volumes = {v["name"]: v for v in spec.get("volumes", [])}
        for container in _containers(spec):
            for mount in container.get("volumeMounts", []):
                secret = volumes.get(mount["name"], {}).get("secret", {}).get("secretName")
                if secret in ("db-conns", "vars"):
                    mounts[(component, secret)] = mount["mountPath"]
                    assert mount["readOnly"] is True
    assert set(mounts) == {
        (c, s) for c in ("scheduler", "triggerer", "webserver") for s in ("db-conns", "vars")
    }
    # Where the chart mounts them is where Tradewind's settings look: a connection written as the kubelet
    # writes a Secret's key (a symlink into ..data) is found by the secrets chain.
    mounted = tmp_path / "mounted"
    for secret, files in {
        "db-conns": {"warehouse": "postgresql://etl:pw@db:5432/dw"},
        "vars": {"env": "prod\n"},
    }.items():
        data = mounted / secret / "..2026_12_06"
        data.mkdir(parents=True)
        for name, text in files.items():
            (data / name).write_text(text)
        (mounted / secret / "..data").symlink_to(data.name)
        for name in files:
            (mounted / secret / name).symlink_to(f"..data/{name}")
    container = named(manifests, "Deployment", "-scheduler")["spec"]["template"]["spec"]["containers"][0]
    toml = toml_of(manifests)
    for secret, path in ((s, mounts[("scheduler", s)]) for s in ("db-conns", "vars")):
        toml = toml.replace(f'"{path}"', f'"{mounted / secret}"')
    settings = load_settings_as(container_env(manifests, container), toml, tmp_path / "home", monkeypatch)
    assert str(settings.secrets.connections_path) == str(mounted / "db-conns")
    chain = secrets_chain(settings, None)
    connection = chain.get_connection("warehouse")
    assert connection is not None and (connection.host, connection.schema) == ("db", "dw")
    assert chain.get_variable("env") == "prod"
