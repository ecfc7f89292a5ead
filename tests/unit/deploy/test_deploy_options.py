"""The `tradewind deploy` flags: which chart values they stand for, and which combinations are refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from tradewind.deploy.options import DeployOptions, chart_values
from tradewind.sdk.errors import ConfigError


def test_flags_become_chart_values() -> None:
    options = DeployOptions(
        image="registry.example.com:5000/data/tradewind", tag="1.2.3", dags="git",
        git_repo="https://git.example.com/dags.git", git_branch="prod", git_subpath="pipelines",
    )  # fmt: skip
    options.validate()
    assert chart_values(options) == {
        "image": {"repository": "registry.example.com:5000/data/tradewind", "tag": "1.2.3"},
        "dags": {
            "mode": "git",
            "gitSync": {"repo": "https://git.example.com/dags.git", "branch": "prod", "subPath": "pipelines"},
        },
    }


def test_flags_not_given_leave_the_values_files_in_charge() -> None:
    assert chart_values(DeployOptions()) == {}
    assert chart_values(DeployOptions(dags="persistent")) == {"dags": {"mode": "persistent"}}


@pytest.mark.parametrize(
    ("options", "key", "message"),
    [
        (DeployOptions(namespace="Data"), "namespace", "is not a valid namespace"),
        (DeployOptions(namespace="a" * 64), "namespace", "is not a valid namespace"),
        (DeployOptions(release="my_release"), "release", "is not a valid release name"),
        (DeployOptions(image="tradewind:1.0"), "image", "give the tag with --tag"),
        (DeployOptions(image="registry.example.com/Tradewind"), "image", "is not an image repository"),
        (DeployOptions(tag="-bad"), "tag", "is not a valid image tag"),
        (
            DeployOptions(dags="persistent", git_branch="main"),
            "dags",
            "--git-branch only apply with --dags git",
        ),
        (DeployOptions(timeout=0), "timeout", "--timeout must be a positive number"),
        (DeployOptions(values_files=(Path("/nonexistent.yaml"),)), "values", "no such file"),
        (DeployOptions(set_values=("executor",)), "set", "expected KEY=VALUE"),
    ],
)
def test_bad_flags_are_refused_naming_the_flag(options: DeployOptions, key: str, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        options.validate()
    assert caught.value.key == key
    assert message in str(caught.value)
