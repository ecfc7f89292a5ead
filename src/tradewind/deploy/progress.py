"""Showing a rollout while it happens: a live table on a terminal, one line per change otherwise."""

from __future__ import annotations

from types import TracebackType

from rich.console import Console
from rich.live import Live
from rich.table import Table

from tradewind.deploy.rollout import PodState, RolloutSnapshot

_STYLES = {"Ready": "green", "Completed": "dim", "Running": "yellow", "Pending": "yellow"}


def rollout_table(current: RolloutSnapshot, *, title: str) -> Table:
    table = Table("pod", "component", "status", "restarts", title=title, title_justify="left")
    for pod in current.pods:
        style = _STYLES.get(pod.status, "red" if pod.reason else "yellow")
        table.add_row(pod.name, pod.component, f"[{style}]{pod.status}[/]", str(pod.restarts))
    for workload in current.workloads:
        if not workload.done:
            table.caption = (table.caption + "; " if table.caption else "waiting for ") + (
                f"{workload.kind} {workload.name} {workload.ready}/{workload.desired}"
            )
    for other in current.waiting_for:
        table.caption = (table.caption + "; " if table.caption else "waiting for ") + other
    return table


class RolloutDisplay:
    """Context manager taking each RolloutSnapshot: redraws a table on a terminal, or prints the pods
    whose status changed when the output is a log (CI, a pipe)."""

    def __init__(self, console: Console, *, title: str) -> None:
        self.console = console
        self.title = title
        self._live: Live | None = None
        self._last: dict[str, str] = {}

    def __enter__(self) -> RolloutDisplay:
        if self.console.is_terminal:
            self._live = Live(console=self.console, refresh_per_second=4, transient=False)
            self._live.__enter__()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._live is not None:
            self._live.__exit__(exc_type, exc, tb)

    def update(self, current: RolloutSnapshot) -> None:
        if self._live is not None:
            self._live.update(rollout_table(current, title=self.title))
            return
        for pod in current.pods:
            if self._last.get(pod.name) != pod.status:
                self._last[pod.name] = pod.status
                self.console.print(_line(pod), highlight=False)


def _line(pod: PodState) -> str:
    detail = f": {pod.message}" if pod.message and not pod.ready else ""
    return f"  {pod.name} ({pod.component}) {pod.status}{detail}"
