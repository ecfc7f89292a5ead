"""Volume mounts for containers that run in the host filesystem: each mount must be its local directory."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tradewind.testing.process_kubelet.config import KubeletConfig


class MountError(Exception):
    """A volume that cannot be set up (kubelet event FailedMount); the pod stays ContainerCreating."""


def _local_dir(config: KubeletConfig, volume: dict[str, Any], mount_path: Path) -> Path:
    name = volume["name"]
    if "hostPath" in volume:
        local = Path(volume["hostPath"]["path"])
        if not local.exists():
            if volume["hostPath"].get("type") in ("DirectoryOrCreate", None, ""):
                local.mkdir(parents=True, exist_ok=True)
            else:
                raise MountError(f'MountVolume.SetUp failed for volume "{name}" : hostPath type check failed: '
                                 f"{local} is not a directory")
        return local
    if "persistentVolumeClaim" in volume:
        claim = volume["persistentVolumeClaim"]["claimName"]
        if claim not in config.claim_dirs:
            raise MountError(f'persistentvolumeclaim "{claim}" not found')
        return Path(config.claim_dirs[claim])
    if "emptyDir" in volume:
        mount_path.mkdir(parents=True, exist_ok=True)
        return mount_path
    kinds = sorted(k for k in volume if k != "name")
    raise MountError(f'MountVolume.SetUp failed for volume "{name}" : the process kubelet supports hostPath, '
                     f"persistentVolumeClaim and emptyDir volumes, not {kinds}")


def check_mounts(config: KubeletConfig, pod: dict[str, Any], container: dict[str, Any]) -> None:
    volumes = {v["name"]: v for v in pod["spec"].get("volumes") or []}
    for mount in container.get("volumeMounts") or []:
        volume = volumes[mount["name"]]
        mount_path = Path(mount["mountPath"])
        try:
            local = _local_dir(config, volume, mount_path)
        except OSError as exc:
            raise MountError(f'MountVolume.SetUp failed for volume "{mount["name"]}" : {exc}') from None
        if mount.get("subPath"):
            local = local / mount["subPath"]
        if mount_path.resolve() != local.resolve():
            raise MountError(
                f'MountVolume.SetUp failed for volume "{mount["name"]}" : the process kubelet runs containers '
                f"in the host filesystem, so mountPath {mount_path} must be the local directory {local}"
            )
