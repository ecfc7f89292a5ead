"""The runner's upload of its try's log: the connection is looked up once, before the try's end is reported;
the local copy is deleted only after a try that ended for good."""

from __future__ import annotations

from pathlib import Path

from tradewind.config.settings import Settings
from tradewind.core.keys import TaskInstanceKey
from tradewind.core.log_paths import log_relative_path
from tradewind.core.states import TaskInstanceState
from tradewind.runner.log_upload import TryLogUpload
from tradewind.sdk.runtime import InMemoryRuntime

RELATIVE = log_relative_path(TaskInstanceKey("d", "r", "t"), 1)


class CountingRuntime(InMemoryRuntime):
    """Counts connection lookups; after ``refuse()`` it fails them, as the execution API does once the try's
    end is reported."""

    def __init__(self) -> None:
        super().__init__()
        self.lookups = 0
        self.refused = False

    def get_connection(self, conn_id: str) -> dict[str, object] | None:
        self.lookups += 1
        if self.refused:
            raise PermissionError("the task token is no longer accepted")
        return super().get_connection(conn_id)


def _settings(tmp_path: Path, *, delete: bool) -> Settings:
    return Settings.model_validate({
        "home": tmp_path,
        "logging": {"remote_base_log_folder": f"file://{tmp_path}/remote", "remote_log_conn_id": "logs",
                    "delete_local_logs": delete},
    })  # fmt: skip


def _local(tmp_path: Path) -> Path:
    path = tmp_path / "attempt=1.log"
    path.write_text("the try's lines\n")
    return path


def test_the_connection_is_looked_up_before_the_end_is_reported_and_the_upload_comes_after(
    tmp_path: Path,
) -> None:
    runtime = CountingRuntime()
    runtime.connections["logs"] = {"conn_type": "generic"}
    local = _local(tmp_path)
    upload = TryLogUpload(_settings(tmp_path, delete=True), local, RELATIVE, runtime)
    upload.prepare()
    runtime.refused = True  # the end is reported: the token is refused from now on
    upload.ended(TaskInstanceState.SUCCESS)
    assert upload.upload() is True
    assert runtime.lookups == 1
    assert (tmp_path / "remote" / RELATIVE).read_text() == "the try's lines\n" and not local.exists()


def test_a_deferred_try_keeps_its_local_log_for_when_it_resumes(tmp_path: Path) -> None:
    runtime = CountingRuntime()
    runtime.connections["logs"] = {"conn_type": "generic"}
    local = _local(tmp_path)
    upload = TryLogUpload(_settings(tmp_path, delete=True), local, RELATIVE, runtime)
    upload.prepare()
    upload.ended(TaskInstanceState.DEFERRED)
    assert upload.upload() is True and local.exists()


def test_an_unknown_connection_keeps_the_local_log_and_notes_why(tmp_path: Path) -> None:
    local = _local(tmp_path)
    upload = TryLogUpload(_settings(tmp_path, delete=True), local, RELATIVE, CountingRuntime())
    upload.ended(TaskInstanceState.SUCCESS)
    assert upload.upload() is False
    assert local.exists() and "connection 'logs'" in local.read_text()


def test_nothing_happens_without_a_remote_base_log_folder(tmp_path: Path) -> None:
    local = _local(tmp_path)
    upload = TryLogUpload(Settings.model_validate({"home": tmp_path}), local, RELATIVE, CountingRuntime())
    assert not upload.enabled and upload.upload() is False and local.exists()


def test_a_bad_remote_folder_setting_never_fails_the_try(tmp_path: Path) -> None:
    settings = Settings.model_validate({"home": tmp_path, "logging": {"remote_base_log_folder": "nowhere"}})
    upload = TryLogUpload(settings, _local(tmp_path), RELATIVE, CountingRuntime())
    assert not upload.enabled and upload.upload() is False
