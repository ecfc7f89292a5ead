"""`tradewind deploy`: --render-only writes exactly what `helm template` prints for the same values, and
every way it can go wrong before reaching a cluster ends with a clear message and exit code."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
import yaml

from tradewind.cli.main import main
from tradewind.deploy.deployment import release_facts

from .conftest import CHART, CI_VALUES, helm_template, parse_manifests

FIXED_SECRETS = {
    "admin": {"password": "fixed-admin-password"},
    "webserver": {"secretKey": "fixed-webserver-secret-key-of-32-characters-or-more"},
    "executionApi": {"jwtSecret": "fixed-execution-api-signing-key-of-32-characters"},
    "postgresql": {"auth": {"password": "fixed-postgres-password"}},
    "redis": {"password": "fixed-redis-password"},
    "fernetKey": "LGIpqn5ElzjVDmj7UApWbGTqqWTMX6OaXEHgVyMYVrQ=",
}


@pytest.fixture
def secrets_file(tmp_path: Path) -> Path:
    path = tmp_path / "secrets-values.yaml"
    path.write_text(yaml.safe_dump(FIXED_SECRETS))
    return path


@pytest.fixture
def unreachable_kubeconfig(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A kubeconfig whose only cluster listens nowhere (port 1 of the loopback address)."""
    path = tmp_path / "kubeconfig"
    path.write_text(
        yaml.safe_dump({
            "apiVersion": "v1", "kind": "Config", "current-context": "unreachable",
            "clusters": [{"name": "nowhere", "cluster": {"server": "https://127.0.0.1:1"}}],
            "users": [{"name": "nobody", "user": {"token": "not-a-token"}}],
            "contexts": [{"name": "unreachable", "context": {"cluster": "nowhere", "user": "nobody"}}],
        })
    )  # fmt: skip
    monkeypatch.setenv("KUBECONFIG", str(path))
    return path


def test_render_only_writes_what_helm_template_prints(helm: Path, tmp_path: Path, secrets_file: Path) -> None:
    out_dir = tmp_path / "build"
    code = main([
        "deploy", "--render-only", "--output-dir", str(out_dir), "--release", "rel", "--namespace", "data",
        "--image", "registry.example.com/team/tradewind", "--tag", "1.2.3",
        "--dags", "git", "--git-repo", "https://git.example.com/dags.git",
        "--git-branch", "prod", "--git-subpath", "dags",
        "--values", str(secrets_file), "--set", "config.core.parallelism=8",
    ])  # fmt: skip
    assert code == 0
    rendered = (out_dir / "rel" / "manifests.yaml").read_text()
    expected = helm_template(
        helm, release="rel", namespace="data", values=[secrets_file], kube_version=None,
        sets=[
            "image.repository=registry.example.com/team/tradewind", "image.tag=1.2.3", "dags.mode=git",
            "dags.gitSync.repo=https://git.example.com/dags.git", "dags.gitSync.branch=prod",
            "dags.gitSync.subPath=dags",
            "config.core.parallelism=8",
        ],
    )  # fmt: skip
    assert expected.returncode == 0, expected.stderr
    assert rendered == expected.stdout
    assert stat.S_IMODE((out_dir / "rel" / "manifests.yaml").stat().st_mode) == 0o600, (
        "manifests hold Secrets"
    )
    assert 'dags_folder = "/opt/tradewind/dags/repo/dags"' in rendered


@pytest.mark.parametrize("values", CI_VALUES, ids=[p.name for p in CI_VALUES])
def test_render_only_matches_helm_template_for_the_ci_values(
    helm: Path, tmp_path: Path, values: Path
) -> None:
    """Generated secrets differ from one render to the next; everything else must be identical."""
    code = main(
        [
            "deploy",
            "--render-only",
            "--output-dir",
            str(tmp_path),
            "--values",
            str(values),
            "--namespace",
            "data",
        ]
    )
    assert code == 0
    expected = helm_template(helm, release="tradewind", namespace="data", values=[values], kube_version=None)
    assert expected.returncode == 0, expected.stderr
    assert _without_secret_data(
        (tmp_path / "tradewind" / "manifests.yaml").read_text()
    ) == _without_secret_data(expected.stdout)


def _without_secret_data(text: str) -> list[dict[str, object]]:
    docs = parse_manifests(text)
    for doc in docs:
        if doc["kind"] == "Secret":
            doc["data"] = sorted(doc.get("data") or {})
    return docs


def test_release_facts_come_from_the_rendered_chart(helm: Path) -> None:
    facts = release_facts(
        helm_template(helm, release="prod", namespace="data", sets=["admin.username=ops"]).stdout
    )
    assert facts.webserver_service == "prod-tradewind-webserver"
    assert facts.service_port == 8080
    assert (facts.admin_user, facts.admin_secret) == ("ops", "prod-tradewind-admin")
    assert facts.ingress is None


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--set", "executor=airflow"],
            "at '/executor': value must be one of 'kubernetes', 'celery', 'local'",
        ),
        (
            ["--set", "postgresql.enabled=false"],
            "set externalDatabase.url or externalDatabase.existingSecret",
        ),
        (
            ["--dags", "git"],
            "dags.mode is git but dags.gitSync.repo is empty: give the repository to clone (--git-repo)",
        ),
        (["--dags", "persistent", "--git-repo", "https://g/x.git"], "--git-repo only apply with --dags git"),
        (["--image", "tradewind:1.0"], "is not an image repository; give the tag with --tag"),
        (["--tag", "a tag"], "--tag 'a tag' is not a valid image tag"),
        (["--namespace", "Data_NS"], "--namespace 'Data_NS' is not a valid namespace"),
        (["--values", "/nonexistent/values.yaml"], "--values /nonexistent/values.yaml: no such file"),
        (["--set", "novalue"], "--set 'novalue': expected KEY=VALUE"),
    ],
)
def test_a_bad_value_exits_2_with_a_clear_message(
    helm: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    code = main(["deploy", "--render-only", "--output-dir", str(tmp_path), *args])
    assert code == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and message in err, err
    assert not (tmp_path / "tradewind" / "manifests.yaml").exists()


def test_image_is_required_to_deploy(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["deploy"]) == 2
    assert "--image is required" in capsys.readouterr().err


def _bin_with(tmp_path: Path, *programs: Path) -> Path:
    folder = tmp_path / "tools"
    folder.mkdir()
    for program in programs:
        (folder / program.name).symlink_to(program)
    return folder


def test_missing_helm_exits_1_and_says_how_to_install_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    empty = _bin_with(tmp_path)
    monkeypatch.setenv("PATH", str(empty))
    monkeypatch.setenv("TRADEWIND_TOOLS_DIR", str(empty))
    assert main(["deploy", "--image", "tradewind", "--render-only", "--output-dir", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert "helm was not found on PATH" in err and "scripts/install-helm.sh" in err


def test_missing_kubectl_exits_1(
    helm: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    only_helm = _bin_with(tmp_path, helm)
    monkeypatch.setenv("PATH", str(only_helm))
    monkeypatch.setenv("TRADEWIND_TOOLS_DIR", str(only_helm))
    assert main(["deploy", "--image", "tradewind"]) == 1
    assert "kubectl was not found on PATH" in capsys.readouterr().err


def test_unreachable_cluster_exits_1_naming_the_context(
    helm: Path, unreachable_kubeconfig: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["deploy", "--image", "tradewind", "--timeout", "30"]) == 1
    err = capsys.readouterr().err
    assert "cannot reach the Kubernetes cluster of context unreachable" in err
    assert "127.0.0.1:1" in err


def test_bad_values_are_reported_before_the_cluster_is_contacted(
    helm: Path, unreachable_kubeconfig: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["deploy", "--image", "tradewind", "--set", "dags.mode=svn"]) == 2
    assert "at '/dags/mode'" in capsys.readouterr().err


def test_delete_on_an_unreachable_cluster_exits_1(
    helm: Path, unreachable_kubeconfig: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["deploy", "delete", "--release", "tw", "--namespace", "data"]) == 1
    assert "cannot reach the Kubernetes cluster" in capsys.readouterr().err


def test_the_chart_is_shipped_inside_the_package() -> None:
    """tradewind/deploy/chart is what the wheel carries: a link to deploy/helm/tradewind in a checkout."""
    link = Path(__file__).resolve().parents[3] / "src" / "tradewind" / "deploy" / "chart"
    assert link.is_symlink() and link.resolve() == CHART.resolve()
    assert os.readlink(link) == "../../../deploy/helm/tradewind"


def test_the_package_data_patterns_carry_every_chart_file() -> None:
    """pyproject.toml's package-data must ship the chart, or `pip install tradewind` gets no
    `tradewind deploy` (the wheel copies the files the link points at)."""
    import glob
    import tomllib

    root = Path(__file__).resolve().parents[3]
    package = root / "src" / "tradewind"
    patterns = tomllib.loads((root / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"][
        "tradewind"
    ]
    shipped = {Path(p) for pattern in patterns for p in glob.glob(pattern, root_dir=package, recursive=True)}
    chart_files = {
        Path("deploy/chart") / path.relative_to(CHART) for path in CHART.rglob("*") if path.is_file()
    }
    missing = sorted(str(p) for p in chart_files - shipped)
    assert not missing, (
        "add to [tool.setuptools.package-data] tradewind: "
        '"deploy/chart/*", "deploy/chart/**/*", "deploy/chart/.helmignore"; not shipped: '
        + ", ".join(missing[:5])
    )
