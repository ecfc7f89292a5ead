"""Where the Helm chart is: shipped inside the package (tradewind/deploy/chart), or a folder given."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from tradewind.sdk.errors import NotFoundError

CHART_NAME = "tradewind"


def packaged_chart() -> Path:
    """The chart shipped with this package. In a checkout, tradewind/deploy/chart is a link to
    deploy/helm/tradewind; in an installed wheel it is a copy of it (package data)."""
    return Path(str(files("tradewind.deploy") / "chart")).resolve()


def chart_path(explicit: str | Path | None = None) -> Path:
    """The chart to use: ``explicit`` when given, else the packaged one. Checked to be a chart."""
    path = Path(explicit).expanduser().resolve() if explicit else packaged_chart()
    if not (path / "Chart.yaml").is_file():
        where = "given with --chart" if explicit else "shipped with this package"
        raise NotFoundError(
            f"no Helm chart at {path} ({where}): Chart.yaml is missing", kind="chart", ident=str(path)
        )
    return path
