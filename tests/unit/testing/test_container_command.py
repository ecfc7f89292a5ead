"""What a container runs: Kubernetes' rules for command and args against the image's ENTRYPOINT and CMD,
and the quantities a memory or CPU limit is written in."""

from __future__ import annotations

import pytest

from tradewind.testing.container_kubelet.container_command import container_argv
from tradewind.testing.container_kubelet.container_options import parse_quantity, resource_args
from tradewind.testing.container_kubelet.podman import ImageConfig
from tradewind.testing.process_kubelet.container_env import ContainerConfigError

IMAGE = ImageConfig(entrypoint=["/usr/bin/tini", "--", "entrypoint"], cmd=["webserver"], user="50000",
                    working_dir="/opt/tradewind", stop_signal="")  # fmt: skip


@pytest.mark.parametrize(
    ("container", "argv"),
    [
        ({}, ["/usr/bin/tini", "--", "entrypoint", "webserver"]),
        ({"args": ["scheduler"]}, ["/usr/bin/tini", "--", "entrypoint", "scheduler"]),
        ({"args": []}, ["/usr/bin/tini", "--", "entrypoint", "webserver"]),  # empty args: the image's CMD
        ({"command": ["tradewind", "version"]}, ["tradewind", "version"]),  # the CMD goes with the ENTRYPOINT
        ({"command": ["tradewind"], "args": ["tasks", "run"]}, ["tradewind", "tasks", "run"]),
        ({"command": ["echo", "$(WHO)", "$$(WHO)", "$(NOBODY)"]}, ["echo", "pod", "$(WHO)", "$(NOBODY)"]),
    ],
)
def test_command_replaces_the_entrypoint_and_args_the_cmd(
    container: dict[str, object], argv: list[str]
) -> None:
    assert container_argv(container, IMAGE, {"WHO": "pod"}) == argv


@pytest.mark.parametrize(
    ("text", "value"),
    [("512Mi", 512 * 2**20), ("1G", 1e9), ("250m", 0.25), ("2", 2.0), ("1.5Gi", 1.5 * 2**30)],
)
def test_quantities(text: str, value: float) -> None:
    assert parse_quantity(text) == value


def test_a_bad_quantity_names_itself() -> None:
    with pytest.raises(ContainerConfigError, match="'12 bananas'"):
        parse_quantity("12 bananas")


def test_a_memory_limit_allows_no_swap_on_top_as_a_kubelet_sets_it() -> None:
    limits = {"resources": {"limits": {"memory": "200Mi", "cpu": "500m"}}}
    assert resource_args(limits) == ["--memory", "209715200", "--memory-swap", "209715200", "--cpus", "0.500"]
