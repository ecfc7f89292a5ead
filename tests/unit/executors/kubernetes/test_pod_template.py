"""The pod template file is checked at start, with errors that name the file and what is wrong."""

from __future__ import annotations

from pathlib import Path

import pytest

from tradewind.executors.kubernetes.pod_template import default_template, load_pod_template
from tradewind.sdk.errors import ConfigError


def test_no_file_gives_the_default() -> None:
    assert load_pod_template(None) == default_template()


def test_a_good_template_loads(tmp_path: Path) -> None:
    path = tmp_path / "pod.yaml"
    path.write_text("apiVersion: v1\nkind: Pod\nspec:\n  containers:\n  - name: base\n    image: x:1\n")
    assert load_pod_template(path)["spec"]["containers"][0]["image"] == "x:1"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("spec:\n  containers:\n  - name: main\n", "needs a container named 'base'"),
        ("kind: Deployment\nspec: {}\n", "kind 'Deployment'"),
        ("- a\n- b\n", "must be a YAML mapping"),
        ("spec: {containers: [name: base\n", "line"),
        ("spec: {}\n", "needs spec.containers"),
    ],
)
def test_bad_templates_are_config_errors(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "pod.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=message) as info:
        load_pod_template(path)
    assert str(path) in str(info.value) and info.value.key == "kubernetes.pod_template_file"


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read the pod template"):
        load_pod_template(tmp_path / "absent.yaml")
