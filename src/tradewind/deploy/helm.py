"""Running helm (template, upgrade --install, uninstall, lint) and turning its failures into our errors."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from tradewind.sdk.errors import ConfigError, DeploymentError, NotFoundError, TradewindError

#: `fail` in a template: "execution error at (tradewind/templates/x.yaml:1:4): <message>".
_TEMPLATE_FAILURE = re.compile(r"execution error at \([^)]*\): (?P<message>.+)", re.DOTALL)
_SCHEMA_FAILURE = "don't meet the specifications of the schema"
_UNREACHABLE = ("Kubernetes cluster unreachable", "connection refused", "no such host", "i/o timeout")


@dataclass(frozen=True)
class ChartSource:
    """A chart and the values it is rendered with: values files in order, then --set items."""

    chart: Path
    release: str
    namespace: str
    values_files: tuple[Path, ...] = ()
    set_values: tuple[str, ...] = ()

    def value_args(self) -> list[str]:
        args: list[str] = []
        for path in self.values_files:
            args += ["--values", str(path)]
        for item in self.set_values:
            args += ["--set", item]
        return args


class Helm:
    """The helm program, run as a subprocess with a kube context when one is given."""

    def __init__(self, binary: Path, *, kube_context: str | None = None) -> None:
        self.binary = binary
        self.kube_context = kube_context

    def template_command(self, source: ChartSource) -> list[str]:
        return [
            str(self.binary), "template", source.release, str(source.chart),
            "--namespace", source.namespace, *source.value_args(),
        ]  # fmt: skip

    def template(self, source: ChartSource) -> str:
        """The rendered manifests, exactly as `helm template` prints them."""
        return self._run(self.template_command(source), action="render the chart").stdout

    def lint(self, source: ChartSource, *, strict: bool = True) -> str:
        command = [str(self.binary), "lint", str(source.chart), *source.value_args()]
        if strict:
            command.append("--strict")
        return self._run(command, action="lint the chart").stdout

    def upgrade_install_command(self, source: ChartSource, *, timeout: float) -> list[str]:
        """`helm upgrade --install`: Helm waits for the hooks (the admin-user Job) but not for the pods,
        which `tradewind deploy` watches itself to show progress and explain what is stuck."""
        return [
            str(self.binary), "upgrade", "--install", source.release, str(source.chart),
            "--namespace", source.namespace, "--create-namespace",
            "--timeout", f"{int(timeout)}s", *self._context_args(), *source.value_args(),
        ]  # fmt: skip

    def start_upgrade_install(self, source: ChartSource, *, timeout: float) -> subprocess.Popen[str]:
        return subprocess.Popen(
            self.upgrade_install_command(source, timeout=timeout),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def finish(self, process: subprocess.Popen[str], *, action: str) -> str:
        """Wait for a started helm process; its output, or the error its failure stands for."""
        stdout, stderr = process.communicate()
        if process.returncode != 0:
            raise classify_failure(stderr, action=action)
        return stdout

    def uninstall(self, release: str, namespace: str, *, timeout: float) -> str:
        command = [
            str(self.binary), "uninstall", release, "--namespace", namespace, "--wait",
            "--timeout", f"{int(timeout)}s", *self._context_args(),
        ]  # fmt: skip
        return self._run(command, action=f"uninstall release {release!r}").stdout

    def _context_args(self) -> list[str]:
        return ["--kube-context", self.kube_context] if self.kube_context else []

    def _run(self, command: Sequence[str], *, action: str) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(list(command), capture_output=True, text=True, check=False)
        if result.returncode != 0:
            raise classify_failure(result.stderr, action=action)
        return result


def classify_failure(stderr: str, *, action: str) -> TradewindError:
    """Helm's error text as one of our errors: bad values are a ConfigError (exit 2), an unknown release a
    NotFoundError, an unreachable cluster or anything else a failure (exit 1)."""
    text = stderr.strip()
    if text.startswith("Error: "):
        text = text[len("Error: ") :]
    if _SCHEMA_FAILURE in text:
        problems = [line.strip()[2:] for line in text.splitlines() if line.strip().startswith("- ")]
        detail = "; ".join(problems) or text
        return ConfigError(f"chart values rejected by values.schema.json: {detail}", key=_first_key(problems))
    if match := _TEMPLATE_FAILURE.search(text):
        message = match.group("message").strip()
        return ConfigError(f"chart values rejected: {message}", key=message.split(" ", 1)[0])
    if "release: not found" in text or ("not found" in text and "uninstall" in action):
        return NotFoundError(f"could not {action}: {text}", kind="release")
    if any(marker in text for marker in _UNREACHABLE):
        return DeploymentError(
            f"could not {action}: the Kubernetes cluster is unreachable ({text.splitlines()[-1]}); "
            "check KUBECONFIG and --kube-context"
        )
    return DeploymentError(f"could not {action}: helm said: {text}")


def _first_key(problems: Sequence[str]) -> str | None:
    """'at '/dags/mode': value must be ...' -> 'dags.mode'."""
    for problem in problems:
        if match := re.match(r"at '/?([^']*)'", problem):
            return match.group(1).replace("/", ".") or None
    return None
