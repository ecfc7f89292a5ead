"""A pod's volumes made real on the node, as bind mounts for podman.

PersistentVolumeClaims are host folders (``claim_dirs``), ``hostPath`` is itself, ``emptyDir`` is a folder
of the pod's own, Secret and ConfigMap volumes are folders of files written from the API's objects. With
the pod's ``fsGroup``, volumes that support ownership management (all but hostPath, and but read-only ones)
are made group-owned and group-writable, with the set-group-id bit on folders, as a kubelet does.
"""

from __future__ import annotations

import base64
import os
import shutil
import stat
from pathlib import Path
from typing import Any

from tradewind.testing.process_kubelet.config import KubeletConfig
from tradewind.testing.process_kubelet.container_env import ContainerConfigError, ObjectReader
from tradewind.testing.process_kubelet.volume_mounts import MountError

Obj = dict[str, Any]
DEFAULT_FILE_MODE = 0o644


class PodVolumes:
    """The volumes of one pod, set up once under ``root`` (the pod's folder on the node)."""

    def __init__(self, config: KubeletConfig, pod: Obj, root: Path) -> None:
        self.config = config
        self.pod = pod
        self.root = root
        self.namespace = pod["metadata"]["namespace"]
        self._dirs: dict[str, tuple[Path, bool]] = {}  # volume -> (host folder, read-only volume)

    @property
    def fs_group(self) -> int | None:
        group = (self.pod["spec"].get("securityContext") or {}).get("fsGroup")
        return None if group is None else int(group)

    def set_up(self, api: ObjectReader) -> None:
        """Every volume of the pod. Raises MountError (a volume that cannot exist yet, e.g. a missing
        Secret: FailedMount) and retries cleanly: nothing half-made is kept."""
        for volume in self.pod["spec"].get("volumes") or []:
            if volume["name"] not in self._dirs:
                self._dirs[volume["name"]] = self._set_up(api, volume)

    def _set_up(self, api: ObjectReader, volume: Obj) -> tuple[Path, bool]:
        name = volume["name"]
        own = self.root / "volumes" / name
        if "persistentVolumeClaim" in volume:
            claim = volume["persistentVolumeClaim"]["claimName"]
            if claim not in self.config.claim_dirs:
                raise MountError(f'persistentvolumeclaim "{claim}" not found')
            local = Path(self.config.claim_dirs[claim])
            read_only = bool(volume["persistentVolumeClaim"].get("readOnly"))
            if not read_only:
                self._own(local, recursive=True)
            return local, read_only
        if "hostPath" in volume:
            local = Path(volume["hostPath"]["path"])
            kind = volume["hostPath"].get("type") or ""
            if not local.exists():
                if kind not in ("DirectoryOrCreate", ""):
                    raise MountError(
                        f'MountVolume.SetUp failed for volume "{name}" : hostPath type check '
                        f"failed: {local} is not a directory"
                    )
                local.mkdir(parents=True, exist_ok=True)
            return local, False
        if "emptyDir" in volume:
            own.mkdir(parents=True, exist_ok=True)
            os.chmod(own, 0o777)  # a kubelet's emptyDir is world-writable (any user the container runs as)
            self._own(own, recursive=False)
            return own, False
        if "secret" in volume or "configMap" in volume:
            source = volume.get("secret") or volume["configMap"]
            resource = "secrets" if "secret" in volume else "configmaps"
            source_name = source.get("secretName") if resource == "secrets" else source.get("name")
            data = self._data(api, resource, str(source_name), bool(source.get("optional")))
            self._write_files(own, data, source)
            return own, True
        kinds = sorted(k for k in volume if k != "name")
        raise MountError(
            f'MountVolume.SetUp failed for volume "{name}" : the container kubelet supports '
            f"persistentVolumeClaim, hostPath, emptyDir, secret and configMap volumes, not {kinds}"
        )

    def _data(self, api: ObjectReader, resource: str, name: str, optional: bool) -> dict[str, bytes]:
        obj = api.get(resource, self.namespace, name)
        if obj is None:
            if optional:
                return {}
            raise MountError(f'MountVolume.SetUp failed for volume: {resource[:-1]} "{name}" not found')
        if resource == "secrets":
            return {k: base64.b64decode(v) for k, v in (obj.get("data") or {}).items()}
        data = {k: str(v).encode() for k, v in (obj.get("data") or {}).items()}
        data.update({k: base64.b64decode(v) for k, v in (obj.get("binaryData") or {}).items()})
        return data

    def _write_files(self, folder: Path, data: dict[str, bytes], source: Obj) -> None:
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        os.chmod(folder, 0o755)
        default_mode = int(source.get("defaultMode", DEFAULT_FILE_MODE))
        items = source.get("items")
        chosen = (
            [(i["key"], i["path"], int(i.get("mode", default_mode))) for i in items]
            if items
            else [(key, key, default_mode) for key in sorted(data)]
        )
        for key, relative, mode in chosen:
            if key not in data:
                if source.get("optional"):
                    continue
                raise MountError(
                    f"MountVolume.SetUp failed: configmap or secret references non-existent key {key}"
                )
            target = folder / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data[key])
            os.chmod(target, mode)
        self._own(folder, recursive=True, writable=False)

    def _own(self, path: Path, *, recursive: bool, writable: bool = True) -> None:
        """fsGroup: group ownership, group read (and write) bits, set-group-id on folders."""
        group = self.fs_group
        if group is None:
            return
        paths = [path]
        if recursive:
            paths += [Path(d) / n for d, dirs, files in os.walk(path) for n in (*dirs, *files)]
        for item in paths:
            try:
                info = item.lstat()
                if stat.S_ISLNK(info.st_mode):
                    continue
                if info.st_gid != group:
                    os.chown(item, -1, group)
                bits = stat.S_IRGRP | (stat.S_IWGRP if writable else 0)
                if stat.S_ISDIR(info.st_mode):
                    bits |= stat.S_IXGRP | stat.S_ISGID
                elif info.st_mode & stat.S_IXUSR:
                    bits |= stat.S_IXGRP
                if info.st_mode & bits != bits:
                    os.chmod(item, stat.S_IMODE(info.st_mode) | bits)
            except FileNotFoundError:
                continue  # removed meanwhile by whoever else writes the folder
            except OSError as exc:
                raise MountError(
                    f"MountVolume.SetUp failed: applying fsGroup {group} to {item}: {exc}"
                ) from None

    def mount_args(self, container: Obj) -> list[str]:
        """``--volume`` arguments for one container's volumeMounts."""
        args = []
        for mount in container.get("volumeMounts") or []:
            if mount["name"] not in self._dirs:
                raise ContainerConfigError(f'volume "{mount["name"]}" is not set up')
            local, read_only = self._dirs[mount["name"]]
            if mount.get("subPath"):
                local = local / mount["subPath"]
                if not local.exists():
                    local.mkdir(parents=True, exist_ok=True)
            options = "ro" if read_only or mount.get("readOnly") else "rw"
            args += ["--volume", f"{local}:{mount['mountPath']}:{options}"]
        return args
