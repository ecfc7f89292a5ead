"""``{{ macros.* }}`` in templates: date helpers and a few standard modules (no configuration access)."""

from __future__ import annotations

import json as json
import random as random
import time as time
import uuid as uuid
from datetime import datetime as datetime
from datetime import timedelta as timedelta


def ds_add(ds: str, days: int) -> str:
    """``ds_add("2015-01-01", 5)`` is ``"2015-01-06"``."""
    if not days:
        return str(ds)
    return (datetime.strptime(str(ds), "%Y-%m-%d") + timedelta(days=days)).strftime("%Y-%m-%d")


def ds_format(ds: str, input_format: str, output_format: str) -> str:
    """``ds_format("2015-01-01", "%Y-%m-%d", "%m-%d-%y")`` is ``"01-01-15"``."""
    return datetime.strptime(str(ds), input_format).strftime(output_format)
