"""How the process kubelet is set up: its node, where logs go, which local folders back which volumes."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

#: Host variables a container inherits, standing in for what its image would set (PATH to Python ...).
INHERITED_ENV = ("PATH", "HOME", "LANG", "LC_ALL", "TZ", "TMPDIR", "VIRTUAL_ENV", "PYTHONPATH")


@dataclass
class KubeletConfig:
    api_url: str
    #: The node log directory the fake API server reads pod logs from.
    log_dir: Path
    node_name: str = "process-node"
    node_labels: dict[str, str] = field(default_factory=dict)
    #: PersistentVolumeClaim name -> local directory. The container runs in the host filesystem, so a
    #: mount's path must be that directory (hostPath mounts must mount their own path).
    claim_dirs: dict[str, Path] = field(default_factory=dict)
    inherit_env: tuple[str, ...] = INHERITED_ENV
    #: Set in every container before the pod's own env (what the image's ENV lines would set).
    image_env: dict[str, str] = field(default_factory=dict)
    #: How long an `oom-killed` pod runs before the "kernel" kills it.
    oom_after_seconds: float = 0.3
    #: How often a pod that cannot start yet (missing secret, failed mount) is retried.
    retry_interval: float = 1.0
    #: Watch timeout the kubelet asks for; it then re-watches from the last resourceVersion.
    watch_timeout_seconds: int = 300

    def labels(self) -> dict[str, str]:
        return {"kubernetes.io/hostname": self.node_name, "kubernetes.io/os": "linux", **self.node_labels}
