"""What ``ObjectStoragePath.stat()`` returns: the store's own file details, readable as ``os.stat_result`` too."""

from __future__ import annotations

import stat
from datetime import datetime
from typing import Any


class StatResult(dict[str, Any]):
    """The filesystem's ``info()`` mapping plus ``protocol`` and ``conn_id``; ``st_size``, ``st_mtime`` and
    ``st_mode`` as ``os.stat`` names them (0 where the store does not say)."""

    @property
    def st_size(self) -> int:
        return int(self.get("size") or 0)

    @property
    def st_mtime(self) -> float:
        for name in ("mtime", "LastModified", "last_modified", "created"):
            value = self.get(name)
            if isinstance(value, datetime):
                return value.timestamp()
            if isinstance(value, int | float):
                return float(value)
        return 0.0

    @property
    def st_mode(self) -> int:
        if isinstance(self.get("mode"), int):
            return int(self["mode"])
        if self.get("islink"):
            return stat.S_IFLNK
        kind = self.get("type")
        return stat.S_IFDIR if kind == "directory" else stat.S_IFREG if kind == "file" else 0

    @property
    def st_ino(self) -> int:
        return int(self.get("ino") or 0)

    @property
    def st_nlink(self) -> int:
        return int(self.get("nlink") or 0)

    @property
    def st_uid(self) -> int:
        return int(self.get("uid") or 0)

    @property
    def st_gid(self) -> int:
        return int(self.get("gid") or 0)

    @property
    def st_dev(self) -> int:
        return 0
