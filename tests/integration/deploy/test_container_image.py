"""The image built from this tree (tests/container_image.py): who it runs as, where its home is, and what it
carries. The roles it runs are tested in test_container_services.py and test_container_tasks.py."""

from __future__ import annotations

import json
import subprocess

import pytest

from tests.container_image import ContainerImage

pytestmark = pytest.mark.container

PROBE = """
import importlib.resources, json, os, shutil
import celery, kombu.transport.redis, kubernetes, psycopg
print(json.dumps({
    "ids": [os.getuid(), os.getgid()],
    "home": os.environ["TRADEWIND_HOME"],
    "examples": len(list(importlib.resources.files("tradewind.example_dags").iterdir())),
    "tini": shutil.which("tini"),
    "home_writable": os.access(os.environ["TRADEWIND_HOME"], os.W_OK),
}))
"""


def test_image_runs_tradewind_as_user_50000_with_its_extras(tradewind_image: ContainerImage) -> None:
    version = subprocess.run([*tradewind_image.run, "--rm", tradewind_image.tag, "version"],
                             capture_output=True, text=True, check=False, timeout=300)  # fmt: skip
    assert version.returncode == 0, version.stderr
    probe = subprocess.run([*tradewind_image.run, "--rm", tradewind_image.tag, "python", "-c", PROBE],
                           capture_output=True, text=True, check=False, timeout=300)  # fmt: skip
    assert probe.returncode == 0, probe.stderr
    found = json.loads(probe.stdout)
    assert found["ids"] == [50000, 0]
    assert found["home"] == "/opt/tradewind" and found["home_writable"]
    assert found["examples"] > 1
    assert found["tini"] == "/usr/bin/tini"
