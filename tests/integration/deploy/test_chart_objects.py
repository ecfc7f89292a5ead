"""What the rendered chart contains: the executor's rights, probes and resources, secrets kept out of
ConfigMaps, the worker pod template's volumes, DAGs from a volume or git, and settings Tradewind loads."""

from __future__ import annotations

import base64
import re
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from .conftest import (
    CHART,
    CI_VALUES,
    EXAMPLE_VALUES,
    REPO,
    Manifest,
    by_kind,
    container_env,
    load_settings_as,
    named,
    pod_specs,
    toml_of,
    worker_pod_template,
)

Render = Callable[..., list[Manifest]]
CI = {p.name.removesuffix("-values.yaml"): p for p in CI_VALUES}
ALL_CASES = (
    [pytest.param((), id="defaults")]
    + [pytest.param((p,), id=name) for name, p in CI.items()]
    + [pytest.param((p,), id="example-" + p.name.removesuffix("-values.yaml")) for p in EXAMPLE_VALUES]
)

#: What the Kubernetes executor calls, as (resource, verb): the Role must grant exactly this.
EXECUTOR_RIGHTS = {
    ("pods", "create"), ("pods", "get"), ("pods", "list"),
    ("pods", "watch"), ("pods", "delete"), ("pods", "patch"),
    ("pods/log", "get"),
    ("events", "list"),
    ("secrets", "create"), ("secrets", "delete"),
}  # fmt: skip
#: Official-client CoreV1Api methods and the right each needs.
CLIENT_METHOD_RIGHTS = {
    "create_namespaced_pod": ("pods", "create"),
    "read_namespaced_pod": ("pods", "get"),
    "read_namespaced_pod_status": ("pods", "get"),
    "list_namespaced_pod": ("pods", "list"),
    "list_pod_for_all_namespaces": ("pods", "list"),
    "delete_namespaced_pod": ("pods", "delete"),
    "patch_namespaced_pod": ("pods", "patch"),
    "read_namespaced_pod_log": ("pods/log", "get"),
    "list_namespaced_event": ("events", "list"),
    "list_event_for_all_namespaces": ("events", "list"),
    "create_namespaced_secret": ("secrets", "create"),
    "delete_namespaced_secret": ("secrets", "delete"),
}


def rights(role: Manifest) -> set[tuple[str, str]]:
    granted = set()
    for rule in role["rules"]:
        assert rule["apiGroups"] == [""], f"rule outside the core API group: {rule}"
        granted |= {(resource, verb) for resource in rule["resources"] for verb in rule["verbs"]}
    return granted


def secret_values(manifests: list[Manifest]) -> set[str]:
    values = set()
    for secret in by_kind(manifests, "Secret"):
        for encoded in secret.get("data", {}).values():
            values.add(base64.b64decode(encoded).decode())
    return values


def containers(spec: dict[str, Any], *, init: bool = False) -> list[dict[str, Any]]:
    return (
        list(spec.get("initContainers", [])) + list(spec["containers"]) if init else list(spec["containers"])
    )


# -- the executor's rights ------------------------------------------------------------------------------


def test_role_grants_exactly_what_the_executor_calls(render: Render) -> None:
    manifests = render()
    role = named(manifests, "Role", "-pod-launcher")
    assert rights(role) == EXECUTOR_RIGHTS
    binding = named(manifests, "RoleBinding", "-pod-launcher")
    assert binding["roleRef"] == {
        "apiGroup": "rbac.authorization.k8s.io",
        "kind": "Role",
        "name": role["metadata"]["name"],
    }
    assert binding["subjects"] == [
        {"kind": "ServiceAccount", "name": "tw-tradewind-scheduler", "namespace": "data"}
    ]
    assert not by_kind(manifests, "ClusterRole") and not by_kind(manifests, "ClusterRoleBinding")


def test_role_covers_every_api_call_of_the_kubernetes_executor() -> None:
    source_dir = REPO / "src" / "tradewind" / "executors" / "kubernetes"
    sources = (
        "\n".join(p.read_text() for p in sorted(source_dir.rglob("*.py"))) if source_dir.is_dir() else ""
    )
    verbs = "create|read|list|delete|patch|replace|connect"
    api_method = rf"\.((?:{verbs})_(?:namespaced_[a-z_]+|[a-z_]+_for_all_namespaces))\b"
    calls = set(re.findall(api_method, sources))
    if not calls:
        pytest.skip(f"no Kubernetes API calls found under {source_dir} yet")
    unknown = sorted(c for c in calls if c not in CLIENT_METHOD_RIGHTS)
    assert not unknown, f"the executor calls {unknown}: add the rights to templates/rbac.yaml and this table"
    needed = {CLIENT_METHOD_RIGHTS[c] for c in calls}
    if "Watch" in sources:
        needed.add(("pods", "watch"))
    assert needed <= EXECUTOR_RIGHTS


def test_workers_in_other_namespaces_get_a_cluster_role_bound_in_each(render: Render) -> None:
    manifests = render(values=[CI["kubernetes-multi-namespace"]])
    cluster_role = named(manifests, "ClusterRole", "-pod-launcher")
    assert rights(cluster_role) == EXECUTOR_RIGHTS
    bindings = by_kind(manifests, "RoleBinding")
    assert {b["metadata"]["namespace"] for b in bindings} == {"tradewind-workers", "tradewind-gpu"}
    for binding in bindings:
        assert binding["roleRef"]["kind"] == "ClusterRole"
        assert binding["subjects"][0]["namespace"] == "data"
    assert not by_kind(manifests, "Role") and not by_kind(manifests, "ClusterRoleBinding")
    # A pod can only use ConfigMaps of its own namespace: the chart copies them there.
    for suffix in ("-config", "-env"):
        namespaces = {
            m["metadata"]["namespace"]
            for m in by_kind(manifests, "ConfigMap")
            if m["metadata"]["name"].endswith(suffix)
        }
        assert namespaces == {"data", "tradewind-workers", "tradewind-gpu"}, suffix
    # Secrets are not: worker pods need none, so none is copied to the worker namespaces.
    assert {s["metadata"]["namespace"] for s in by_kind(manifests, "Secret")} == {"data"}
    assert 'namespace = "tradewind-workers"' in toml_of(manifests)


def test_cluster_wide_binding_on_request(render: Render) -> None:
    manifests = render(values=[CI["kubernetes-multi-namespace"]], sets=["rbac.clusterWide=true"])
    binding = named(manifests, "ClusterRoleBinding", "-pod-launcher")
    assert binding["roleRef"]["kind"] == "ClusterRole"
    assert not by_kind(manifests, "RoleBinding")


@pytest.mark.parametrize("case", ["local", "celery"])
def test_other_executors_get_no_kubernetes_rights_and_no_pod_template(render: Render, case: str) -> None:
    manifests = render(values=[CI[case]])
    for kind in ("Role", "ClusterRole", "RoleBinding", "ClusterRoleBinding"):
        assert not by_kind(manifests, kind), kind
    assert not [m for m in by_kind(manifests, "ConfigMap") if m["metadata"]["name"].endswith("-pod-template")]
    scheduler = named(manifests, "Deployment", "-scheduler")["spec"]["template"]["spec"]
    assert scheduler["automountServiceAccountToken"] is False
    assert "[kubernetes]" not in toml_of(manifests)


def test_only_the_scheduler_holds_an_api_token(render: Render) -> None:
    manifests = render()
    tokens = {
        m["metadata"]["name"]: m["automountServiceAccountToken"] for m in by_kind(manifests, "ServiceAccount")
    }
    assert tokens == {
        "tw-tradewind-scheduler": True,
        "tw-tradewind-triggerer": False,
        "tw-tradewind-webserver": False,
        "tw-tradewind-worker": False,
    }
    for owner, spec in pod_specs(manifests):
        if "scheduler" not in owner:
            assert spec.get("automountServiceAccountToken") is False, owner


# -- containers: resources, probes, security --------------------------------------------------------------


@pytest.mark.parametrize("values", ALL_CASES)
def test_every_container_has_resources_and_long_running_ones_have_probes(
    render: Render, values: tuple[Path, ...]
) -> None:
    manifests = render(values=values)
    for owner, spec in pod_specs(manifests):
        for container in containers(spec, init=True):
            where = f"{owner} container {container['name']}"
            assert container.get("resources", {}).get("requests"), f"{where} has no resource requests"
        if owner.startswith(("Deployment/", "StatefulSet/")):
            for container in spec["containers"]:
                assert "livenessProbe" in container, (
                    f"{owner} container {container['name']} has no liveness probe"
                )
    webserver = named(manifests, "Deployment", "-webserver")["spec"]["template"]["spec"]["containers"][0]
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        assert webserver[probe]["httpGet"] == {"path": "/health", "port": "http"}
    scheduler = named(manifests, "Deployment", "-scheduler")["spec"]["template"]["spec"]["containers"][0]
    assert scheduler["livenessProbe"]["exec"]["command"] == [
        "tradewind",
        "jobs",
        "check",
        "--job-type",
        "scheduler",
        "--local",
    ]


@pytest.mark.parametrize("values", ALL_CASES)
def test_tradewind_containers_run_non_root_on_a_read_only_root(
    render: Render, values: tuple[Path, ...]
) -> None:
    manifests = render(values=values)
    for owner, spec in pod_specs(manifests):
        assert spec["securityContext"]["runAsNonRoot"] is True, owner
        assert spec["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}, owner
        for container in containers(spec, init=True):
            context = container["securityContext"]
            where = f"{owner} container {container['name']}"
            assert context["allowPrivilegeEscalation"] is False, where
            assert context["readOnlyRootFilesystem"] is True, where
            assert context["capabilities"] == {"drop": ["ALL"]}, where
            assert "/tmp" in {m["mountPath"] for m in container.get("volumeMounts", [])}, (
                f"{where}: no writable /tmp"
            )


# -- secrets ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("values", ALL_CASES)
def test_no_secret_value_appears_outside_secrets(render: Render, values: tuple[Path, ...]) -> None:
    manifests = render(values=values)
    secrets = secret_values(manifests)
    assert secrets, "the release has no secret values at all"
    for manifest in manifests:
        if manifest["kind"] == "Secret":
            continue
        text = yaml.safe_dump(manifest)
        for secret in secrets:
            assert secret not in text, (
                f"a secret value appears in {manifest['kind']}/{manifest['metadata']['name']}"
            )
    for config_map in by_kind(manifests, "ConfigMap"):
        assert "not-a-real-password" not in yaml.safe_dump(config_map)


def test_secrets_are_generated_per_install_never_fixed(helm: Path, render: Render) -> None:
    from .conftest import helm_template, parse_manifests

    first, second = (parse_manifests(helm_template(helm).stdout) for _ in range(2))

    def generated(manifests: list[Manifest]) -> dict[str, str]:
        return {
            f"{s['metadata']['name']}/{key}": base64.b64decode(value).decode()
            for s in by_kind(manifests, "Secret")
            for key, value in s["data"].items()
            if key in ("password", "secret-key")
        }

    a, b = generated(first), generated(second)
    assert set(a) == {
        "tw-tradewind-postgresql/password",
        "tw-tradewind-webserver/secret-key",
        "tw-tradewind-admin/password",
    }
    for name, value in a.items():
        assert value != b[name], f"{name} is the same in two installs"
        assert len(value) >= 24 and value.isalnum(), name
    # The database URL carries the password of the bundled PostgreSQL's own Secret.
    url = base64.b64decode(named(first, "Secret", "-env")["data"]["TRADEWIND__DATABASE__URL"]).decode()
    assert (
        url
        == f"postgresql://tradewind:{a['tw-tradewind-postgresql/password']}@tw-tradewind-postgresql.data.svc:5432/tradewind"
    )
    kept = {
        s["metadata"]["name"]
        for s in by_kind(first, "Secret")
        if s["metadata"].get("annotations", {}).get("helm.sh/resource-policy") == "keep"
    }
    # The database outlives an uninstall, and so must what reads it: the admin's password, the Fernet key.
    assert kept == {"tw-tradewind-postgresql", "tw-tradewind-admin", "tw-tradewind-fernet-key"}


def test_given_secrets_are_used(render: Render) -> None:
    manifests = render(
        sets=[
            "admin.password=Adm1nPass",
            "webserver.secretKey=s3cretKey-long-enough-for-the-webserver",
            "postgresql.auth.password=pgPass",
        ]
    )
    assert {"Adm1nPass", "s3cretKey-long-enough-for-the-webserver", "pgPass"} <= secret_values(manifests)


# -- DAGs and logs ----------------------------------------------------------------------------------------


def _all_containers(manifests: list[Manifest]) -> list[tuple[str, dict[str, Any]]]:
    return [(owner, c) for owner, spec in pod_specs(manifests) for c in containers(spec, init=True)]


@pytest.mark.parametrize("case", ["kubernetes-persistent", "celery-external-broker", "local"])
def test_persistent_mode_mounts_a_dag_claim_and_has_no_git_sync(render: Render, case: str) -> None:
    manifests = render(values=[CI[case]])
    assert not [c for _, c in _all_containers(manifests) if c["name"].startswith("git-sync")]
    claims = {
        v["persistentVolumeClaim"]["claimName"]
        for _, spec in pod_specs(manifests)
        for v in spec.get("volumes", [])
        if v["name"] == "tradewind-dags"
    }
    assert len(claims) == 1
    created = [
        p for p in by_kind(manifests, "PersistentVolumeClaim") if p["metadata"]["name"].endswith("-dags")
    ]
    if yaml.safe_load(CI[case].read_text())["dags"].get("persistence", {}).get("existingClaim"):
        assert not created
    else:
        assert created[0]["spec"]["accessModes"] == [
            yaml.safe_load(CI[case].read_text())["dags"]
            .get("persistence", {})
            .get("accessMode", "ReadOnlyMany")
        ]


@pytest.mark.parametrize("case", ["kubernetes-git-ingress", "celery"])
def test_git_mode_clones_with_git_sync_and_has_no_dag_claim(render: Render, case: str) -> None:
    manifests = render(values=[CI[case]])
    assert not [
        p for p in by_kind(manifests, "PersistentVolumeClaim") if p["metadata"]["name"].endswith("-dags")
    ]
    for owner, spec in pod_specs(manifests):
        dags = [v for v in spec.get("volumes", []) if v["name"] == "tradewind-dags"]
        if not dags:
            continue
        assert dags[0] == {"name": "tradewind-dags", "emptyDir": {}}, owner
        names = [c["name"] for c in containers(spec, init=True)]
        assert "git-sync-init" in names, f"{owner} reads DAGs before they are cloned"
        if owner.startswith("Deployment/"):
            assert "git-sync" in names, f"{owner} has no git-sync sidecar"
    git = yaml.safe_load(CI[case].read_text())["dags"]["gitSync"]
    sidecar = next(c for _, c in _all_containers(manifests) if c["name"] == "git-sync")
    assert f"--repo={git['repo']}" in sidecar["args"] and f"--ref={git['branch']}" in sidecar["args"]
    assert f"--period={git.get('period', '60s')}" in sidecar["args"]
    sub = git.get("subPath")
    assert f'dags_folder = "/opt/tradewind/dags/repo{"/" + sub if sub else ""}"' in toml_of(manifests)


def test_git_credentials_come_from_a_secret(render: Render) -> None:
    https = render(values=[CI["kubernetes-git-ingress"]])
    sidecar = next(c for _, c in _all_containers(https) if c["name"] == "git-sync")
    refs = {e["name"]: e["valueFrom"]["secretKeyRef"]["name"] for e in sidecar["env"] if "valueFrom" in e}
    assert refs == {"GITSYNC_USERNAME": "dags-git-token", "GITSYNC_PASSWORD": "dags-git-token"}
    ssh = render(values=[CI["celery"]])
    sidecar = next(c for _, c in _all_containers(ssh) if c["name"] == "git-sync")
    assert "--ssh-key-file=/etc/git-secret/ssh" in sidecar["args"]
    volumes = {v["name"]: v for _, spec in pod_specs(ssh) for v in spec.get("volumes", [])}
    assert volumes["git-ssh-key"]["secret"]["secretName"] == "dags-git-ssh"


@pytest.mark.parametrize(
    "case", ["kubernetes-persistent", "kubernetes-git-ingress", "kubernetes-multi-namespace"]
)
def test_worker_pod_template_mounts_the_dag_and_log_volumes_the_executor_expects(
    render: Render, case: str
) -> None:
    manifests = render(values=[CI[case]])
    settings = tomllib.loads(toml_of(manifests))["kubernetes"]
    pod = worker_pod_template(manifests)
    assert pod["kind"] == "Pod"
    (base,) = [c for c in pod["spec"]["containers"] if c["name"] == "base"]
    mounts = {m["mountPath"]: m for m in base["volumeMounts"]}
    volumes = {v["name"]: v for v in pod["spec"]["volumes"]}
    dags, logs = mounts[settings["dags_mount_path"]], mounts[settings["logs_mount_path"]]
    assert dags["readOnly"] is True
    assert volumes[logs["name"]]["persistentVolumeClaim"]["claimName"] == settings["logs_volume_claim"]
    if "dags_volume_claim" in settings:
        assert volumes[dags["name"]]["persistentVolumeClaim"]["claimName"] == settings["dags_volume_claim"]
    else:
        assert [c["name"] for c in pod["spec"]["initContainers"]] == ["git-sync-init"]
        # A worker mounts the synced commit itself: its DAG folder is the mount path, as the executor says.
        assert dags["subPath"] == "repo/" + yaml.safe_load(CI[case].read_text())["dags"]["gitSync"]["subPath"]
    assert mounts["/opt/tradewind/tradewind.toml"]["subPath"] == "tradewind.toml"
    assert pod["spec"]["serviceAccountName"] == settings["service_account_name"]
    assert pod["spec"]["restartPolicy"] == "Never"
    # The executor adds envFrom the ConfigMap, which exists where the pods run, and no Secret.
    names = {(m["kind"], m["metadata"]["name"], m["metadata"].get("namespace")) for m in manifests}
    assert ("ConfigMap", settings["env_from_configmap"], settings["namespace"]) in names
    assert "env_from_secret" not in settings


def test_logs_claim_is_shared_by_webserver_scheduler_and_workers(render: Render) -> None:
    manifests = render()
    (claim,) = [
        p for p in by_kind(manifests, "PersistentVolumeClaim") if p["metadata"]["name"].endswith("-logs")
    ]
    assert claim["spec"]["accessModes"] == ["ReadWriteMany"]
    users = {
        owner for owner, spec in pod_specs(manifests)
        for v in spec.get("volumes", [])
        if v.get("persistentVolumeClaim", {}).get("claimName") == claim["metadata"]["name"]
    }  # fmt: skip
    assert {
        "Deployment/tw-tradewind-webserver",
        "Deployment/tw-tradewind-scheduler",
        "worker pod template",
    } <= users


# -- settings ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("values", ALL_CASES)
def test_tradewind_loads_the_rendered_settings(
    render: Render, values: tuple[Path, ...], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    manifests = render(values=values)
    chosen = yaml.safe_load(values[0].read_text()) if values else {}
    executor = chosen.get("executor", "kubernetes")
    scheduler = named(manifests, "Deployment", "-scheduler")["spec"]["template"]["spec"]["containers"][0]
    settings = load_settings_as(
        container_env(manifests, scheduler), toml_of(manifests), tmp_path / "home", monkeypatch
    )
    assert settings.core.executor == executor
    assert str(settings.base_log_folder) == "/opt/tradewind/logs"
    assert str(settings.dags_folder).startswith("/opt/tradewind/dags")
    assert settings.database_url.startswith(("postgresql://", "<"))
    if executor == "kubernetes":
        k = settings.kubernetes
        assert k.in_cluster is True and k.image.startswith(
            chosen.get("image", {}).get("repository", "tradewind") + ":"
        )
        assert str(k.pod_template_file) == "/opt/tradewind/pod_templates/pod_template.yaml"
        assert k.env_from_secret is None and k.env_from_configmap == "tw-tradewind-env"
        assert k.service_account_name == "tw-tradewind-worker"
        assert (k.dags_mount_path, k.logs_mount_path) == ("/opt/tradewind/dags", "/opt/tradewind/logs")
        assert k.logs_volume_claim
        assert k.namespace == chosen.get("kubernetesExecutor", {}).get("namespace", "data")
    if executor == "celery":
        worker = named(manifests, "Deployment", "-celery-worker")["spec"]["template"]["spec"]["containers"][0]
        celery = load_settings_as(
            container_env(manifests, worker), toml_of(manifests), tmp_path / "w", monkeypatch
        ).celery
        assert celery.broker_url.get_secret_value().startswith(("redis://", "amqp://"))
        assert celery.default_queue == chosen["celery"]["queues"][0]
        assert worker["args"][:3] == ["celery-worker", "--queues", ",".join(chosen["celery"]["queues"])]
    webserver = named(manifests, "Deployment", "-webserver")["spec"]["template"]["spec"]["containers"][0]
    web = load_settings_as(
        container_env(manifests, webserver), toml_of(manifests), tmp_path / "web", monkeypatch
    )
    assert web.webserver.secret_key is not None and len(web.webserver.secret_key.get_secret_value()) >= 24


def test_config_schema_knows_every_setting_and_nothing_else() -> None:
    """values.schema.json lists the keys of each settings section, so a typo fails at install time."""
    import json

    from tradewind.config.settings import Settings

    schema = json.loads((CHART / "values.schema.json").read_text())["properties"]["config"]["properties"]
    for section, field in Settings.model_fields.items():
        if section == "home":
            continue
        model = field.annotation
        assert section in schema, f"settings section {section} missing from values.schema.json config"
        assert set(schema[section]["properties"]) == set(model.model_fields), (  # type: ignore[union-attr]
            f"config.{section} in values.schema.json differs from tradewind.config.settings"
        )


# -- workloads --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("values", ALL_CASES)
def test_every_pod_using_the_database_waits_for_migrations(render: Render, values: tuple[Path, ...]) -> None:
    manifests = render(values=values)
    for deployment in by_kind(manifests, "Deployment"):
        init = deployment["spec"]["template"]["spec"].get("initContainers", [])
        if deployment["metadata"]["name"].endswith("-celery-worker"):
            # A Celery worker never touches the database: it has nothing to wait for, nor the means.
            assert "wait-for-migrations" not in [c["name"] for c in init]
            continue
        assert init[0]["name"] == "wait-for-migrations" and init[0]["args"] == ["wait-for-migrations"]
    (migrate,) = [j for j in by_kind(manifests, "Job") if "-migrate-" in j["metadata"]["name"]]
    assert migrate["spec"]["template"]["spec"]["containers"][0]["args"] == ["db", "migrate"]


def test_admin_user_job_runs_once_after_install_with_the_password_from_a_secret(render: Render) -> None:
    manifests = render()
    job = named(manifests, "Job", "-create-admin")
    assert job["metadata"]["annotations"]["helm.sh/hook"] == "post-install"
    container = job["spec"]["template"]["spec"]["containers"][0]
    assert container["args"] == ["create-admin"]
    env = {e["name"]: e for e in container["env"]}
    assert env["TRADEWIND_ADMIN_USER"]["value"] == "admin"
    assert env["TRADEWIND_ADMIN_PASSWORD"]["valueFrom"]["secretKeyRef"] == {
        "name": "tw-tradewind-admin",
        "key": "password",
    }


def test_bundled_postgresql_or_external_database(render: Render) -> None:
    bundled = render()
    assert named(bundled, "StatefulSet", "-postgresql")["spec"]["volumeClaimTemplates"][0]["spec"][
        "accessModes"
    ] == ["ReadWriteOnce"]
    named(bundled, "Service", "-postgresql")
    external = render(values=[CI["celery"]])
    assert not [m for m in external if m["metadata"]["name"].endswith("-postgresql")]
    url = base64.b64decode(named(external, "Secret", "-env")["data"]["TRADEWIND__DATABASE__URL"]).decode()
    assert url == "postgresql://tradewind:not-a-real-password@db.example.com:5432/tradewind"


def test_celery_executor_brings_workers_and_redis(render: Render) -> None:
    manifests = render(values=[CI["celery"]])
    worker = named(manifests, "Deployment", "-celery-worker")
    assert worker["spec"]["replicas"] == 2
    assert worker["spec"]["template"]["spec"]["containers"][0]["args"] == [
        "celery-worker",
        "--queues",
        "default,heavy",
        "--concurrency",
        "4",
    ]
    named(manifests, "StatefulSet", "-redis")
    env = named(manifests, "Secret", "-env")["data"]
    broker = base64.b64decode(env["TRADEWIND__CELERY__BROKER_URL"]).decode()
    redis_password = base64.b64decode(named(manifests, "Secret", "-redis")["data"]["password"]).decode()
    assert broker == f"redis://:{redis_password}@tw-tradewind-redis.data.svc:6379/0"
    external = render(values=[CI["celery-external-broker"]])
    assert not [m for m in external if m["metadata"]["name"].endswith("-redis")]


@pytest.mark.parametrize(
    ("sets", "service_type"),
    [
        ((), "LoadBalancer"),
        (("webserver.service.type=ClusterIP",), "ClusterIP"),
        (("webserver.service.type=NodePort", "webserver.service.nodePort=30080"), "NodePort"),
    ],
)
def test_webserver_service_on_8080(render: Render, sets: tuple[str, ...], service_type: str) -> None:
    service = named(render(sets=sets), "Service", "-webserver")
    assert service["spec"]["type"] == service_type
    (port,) = service["spec"]["ports"]
    assert (port["port"], port["targetPort"]) == (8080, "http")
    assert port.get("nodePort") == (30080 if service_type == "NodePort" else None)


def test_ingress_is_optional_and_routes_to_the_webserver(render: Render) -> None:
    assert not by_kind(render(), "Ingress")
    ingress = named(render(values=[CI["kubernetes-git-ingress"]]), "Ingress", "-webserver")
    (rule,) = ingress["spec"]["rules"]
    assert rule["host"] == "tradewind.example.com"
    assert rule["http"]["paths"][0]["backend"]["service"] == {
        "name": "tw-tradewind-webserver",
        "port": {"name": "http"},
    }
    assert ingress["spec"]["tls"] == [{"secretName": "tradewind-tls", "hosts": ["tradewind.example.com"]}]


def test_two_schedulers_with_disruption_budgets(render: Render) -> None:
    manifests = render(values=[CI["kubernetes-git-ingress"]])
    assert named(manifests, "Deployment", "-scheduler")["spec"]["replicas"] == 2
    assert {p["metadata"]["name"] for p in by_kind(manifests, "PodDisruptionBudget")} == {
        "tw-tradewind-webserver",
        "tw-tradewind-scheduler",
    }


def test_a_triggerer_deployment_runs_beside_the_scheduler_unless_disabled(render: Render) -> None:
    manifests = render(
        sets=["triggerer.replicas=2", "triggerer.capacity=500", "triggerer.podDisruptionBudget.enabled=true"]
    )
    triggerer = named(manifests, "Deployment", "-triggerer")
    assert triggerer["spec"]["replicas"] == 2
    spec = triggerer["spec"]["template"]["spec"]
    [container] = spec["containers"]
    assert container["args"] == ["triggerer"]
    assert container["livenessProbe"]["exec"]["command"][-4:] == [
        "check",
        "--job-type",
        "triggerer",
        "--local",
    ]
    assert spec["automountServiceAccountToken"] is False
    assert tomllib.loads(toml_of(manifests))["triggerer"]["capacity"] == 500
    assert "tw-tradewind-triggerer" in {
        p["metadata"]["name"] for p in by_kind(manifests, "PodDisruptionBudget")
    }
    without = render(sets=["triggerer.enabled=false", "triggerer.podDisruptionBudget.enabled=true"])
    assert not [d for d in by_kind(without, "Deployment") if d["metadata"]["name"].endswith("-triggerer")]
    assert "tw-tradewind-triggerer" not in {
        p["metadata"]["name"] for p in by_kind(without, "PodDisruptionBudget")
    }
