"""What a deployment is asked for (the `tradewind deploy` flags) and the chart values that follow from it."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import yaml

from tradewind.sdk.errors import ConfigError

DagsMode = Literal["persistent", "git"]

#: A Kubernetes namespace or Helm release name: a DNS-1123 label (Helm allows 53 characters for releases).
_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_IMAGE_REPOSITORY = re.compile(
    r"^([a-zA-Z0-9.-]+(:[0-9]+)?/)?[a-z0-9]+([._-][a-z0-9]+)*(/[a-z0-9]+([._-][a-z0-9]+)*)*$"
)
_IMAGE_TAG = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")


@dataclass(frozen=True)
class DeployOptions:
    """One deployment: which image, where, DAGs from where, and extra values files."""

    release: str = "tradewind"
    namespace: str = "tradewind"
    image: str | None = None
    tag: str | None = None
    #: None leaves dags.mode to the values files and the chart (persistent).
    dags: DagsMode | None = None
    git_repo: str | None = None
    git_branch: str | None = None
    git_subpath: str | None = None
    values_files: tuple[Path, ...] = ()
    set_values: tuple[str, ...] = ()
    timeout: float = 600.0
    kube_context: str | None = None
    chart: Path | None = None

    def validate(self) -> None:
        """Reject flag values and combinations that can only fail later, naming the flag at fault."""
        if not _DNS_LABEL.match(self.namespace) or len(self.namespace) > 63:
            raise ConfigError(
                f"--namespace {self.namespace!r} is not a valid namespace (lowercase letters, digits and "
                "'-', at most 63 characters)",
                key="namespace",
            )
        if not _DNS_LABEL.match(self.release) or len(self.release) > 53:
            raise ConfigError(
                f"--release {self.release!r} is not a valid release name (lowercase letters, digits and '-', "
                "at most 53 characters)",
                key="release",
            )
        if self.image is not None and not _IMAGE_REPOSITORY.match(self.image):
            hint = "; give the tag with --tag" if ":" in self.image.rsplit("/", 1)[-1] else ""
            raise ConfigError(f"--image {self.image!r} is not an image repository{hint}", key="image")
        if self.tag is not None and not _IMAGE_TAG.match(self.tag):
            raise ConfigError(f"--tag {self.tag!r} is not a valid image tag", key="tag")
        if self.dags not in (None, "persistent", "git"):
            raise ConfigError(f"--dags must be persistent or git, not {self.dags!r}", key="dags")
        if self.dags == "persistent":
            git_flags = {
                "--git-repo": self.git_repo,
                "--git-branch": self.git_branch,
                "--git-subpath": self.git_subpath,
            }
            given = [flag for flag, value in git_flags.items() if value]
            if given:
                raise ConfigError(
                    f"{', '.join(given)} only apply with --dags git (DAGs are on a volume with --dags "
                    "persistent)",
                    key="dags",
                )
        if self.timeout <= 0:
            raise ConfigError(
                f"--timeout must be a positive number of seconds, not {self.timeout}", key="timeout"
            )
        for path in self.values_files:
            if not path.is_file():
                raise ConfigError(f"--values {path}: no such file", key="values")
        for item in self.set_values:
            if "=" not in item:
                raise ConfigError(f"--set {item!r}: expected KEY=VALUE", key="set")


def chart_values(options: DeployOptions) -> dict[str, Any]:
    """The chart values the flags stand for. Helm applies them after the --values files (a flag beats a
    file) and before --set."""
    values: dict[str, Any] = {}
    image: dict[str, Any] = {}
    if options.image:
        image["repository"] = options.image
    if options.tag:
        image["tag"] = options.tag
    if image:
        values["image"] = image
    dags: dict[str, Any] = {}
    if options.dags:
        dags["mode"] = options.dags
    git = {
        key: value
        for key, value in (
            ("repo", options.git_repo),
            ("branch", options.git_branch),
            ("subPath", options.git_subpath),
        )
        if value
    }
    if git:
        dags["gitSync"] = git
    if dags:
        values["dags"] = dags
    return values


def write_values(values: dict[str, Any], path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        "# Values from the `tradewind deploy` flags (written by tradewind deploy).\n"
        + yaml.safe_dump(values, sort_keys=True)
    )
    return path
