"""The execution API's tokens: each names one try, allows only what its scope says, and is refused for any
other try and once its try has ended."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from starlette.testclient import TestClient

from tests.integration.runner.harness import DAG_ID, RUN_ID, SQLITE_ONLY, RunnerEnv
from tradewind.api.app import create_app
from tradewind.api.execution.app import create_execution_app
from tradewind.core.clock import utcnow
from tradewind.execution.tokens import TokenScope, TokenSigner, TryIdentity, signer_from_settings

pytestmark = SQLITE_ONLY
CLAIM = {"hostname": "worker-1", "pid": 4242}


@pytest.fixture
def api(runner_env: RunnerEnv) -> Iterator[TestClient]:
    with TestClient(create_execution_app(runner_env.settings)) as client:
        yield client


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _claim_token(env: RunnerEnv, task_id: str, try_number: int = 1) -> str:
    identity = TryIdentity(env.key(task_id), try_number)
    return signer_from_settings(env.settings).issue(identity, TokenScope.CLAIM)


def _claim(api: TestClient, env: RunnerEnv, task_id: str) -> str:
    env.queue(task_id)
    answer = api.post("/execution/try/claim", json=CLAIM, headers=_bearer(_claim_token(env, task_id))).json()
    assert answer["claimed"] is not None, answer
    return str(answer["claimed"]["token"])


def _xcom_params(task_id: str) -> dict[str, str | int]:
    return {"dag_id": DAG_ID, "run_id": RUN_ID, "task_id": task_id, "map_index": -1, "key": "k"}


def test_a_claim_token_claims_its_try_once(api: TestClient, runner_env: RunnerEnv) -> None:
    runner_env.queue("bash_echo")
    token = _claim_token(runner_env, "bash_echo")
    first = api.post("/execution/try/claim", json=CLAIM, headers=_bearer(token)).json()
    assert first["claimed"]["try_number"] == 1 and first["claimed"]["run"]["run_id"] == RUN_ID
    assert runner_env.ti("bash_echo").state == "running"
    again = api.post("/execution/try/claim", json={**CLAIM, "pid": 7}, headers=_bearer(token)).json()
    assert again["claimed"] is None
    assert again["refusal"]["reason"] == "try 1 is already running on worker-1 (pid 4242)"
    # The claim token does nothing else.
    assert api.post("/execution/try/heartbeat", headers=_bearer(token)).status_code == 403
    assert api.put("/execution/xcoms", params=_xcom_params("bash_echo"), json={"value": 1},
                   headers=_bearer(token)).status_code == 403  # fmt: skip


def test_a_token_of_an_older_try_claims_nothing(api: TestClient, runner_env: RunnerEnv) -> None:
    runner_env.queue("bash_echo", try_number=2)
    answer = api.post(
        "/execution/try/claim", json=CLAIM, headers=_bearer(_claim_token(runner_env, "bash_echo", 1))
    )
    assert answer.json()["refusal"]["reason"].startswith("the task instance is at try 2")
    assert runner_env.ti("bash_echo").state == "queued"


def test_a_run_token_reaches_only_its_own_try(api: TestClient, runner_env: RunnerEnv) -> None:
    token = _claim(api, runner_env, "bash_echo")
    ok = api.put(
        "/execution/xcoms", params=_xcom_params("bash_echo"), json={"value": [1, 2]}, headers=_bearer(token)
    )
    assert ok.status_code == 200
    assert runner_env.xcom("bash_echo", key="k") == [1, 2]
    other = api.put(
        "/execution/xcoms", params=_xcom_params("python_fail"), json={"value": 3}, headers=_bearer(token)
    )
    assert other.status_code == 403 and "cannot write" in other.json()["detail"]
    # Reading another task's XCom of the run is allowed, as xcom_pull does.
    pulled = api.get("/execution/xcoms", params={**_xcom_params("bash_echo")}, headers=_bearer(token)).json()
    assert pulled == {"found": True, "value": [1, 2]}
    skip_other_run = api.post("/execution/dag-runs/skip", params={"dag_id": DAG_ID, "run_id": "another-run"},
                              json={"task_ids": ["branch_b"]}, headers=_bearer(token))  # fmt: skip
    assert skip_other_run.status_code == 403


def test_an_ended_try_keeps_only_a_read_token(api: TestClient, runner_env: RunnerEnv) -> None:
    token = _claim(api, runner_env, "bash_echo")
    ended = api.post("/execution/try/finish", json={"outcome": "success"}, headers=_bearer(token)).json()
    assert ended["ended"]["state"] == "success"
    assert api.post("/execution/try/heartbeat", headers=_bearer(token)).json()["taken_away"] == "success"
    late = api.put(
        "/execution/xcoms", params=_xcom_params("bash_echo"), json={"value": 1}, headers=_bearer(token)
    )
    assert late.status_code == 409
    again = api.post("/execution/try/finish", json={"outcome": "failed"}, headers=_bearer(token)).json()
    assert again == {"ended": None, "taken_away": "success"}
    assert runner_env.ti("bash_echo").state == "success"
    callbacks = _bearer(ended["ended"]["token"])
    assert api.get("/execution/variables", params={"key": "nope"}, headers=callbacks).status_code == 404
    assert api.put("/execution/xcoms", params=_xcom_params("bash_echo"), json={"value": 1},
                   headers=callbacks).status_code == 403  # fmt: skip


def test_the_server_decides_retry_or_failure(api: TestClient, runner_env: RunnerEnv) -> None:
    token = _claim(api, runner_env, "python_fail")  # retries=1 in the DAG file
    ended = api.post(
        "/execution/try/finish", json={"outcome": "failed", "reason": "boom"}, headers=_bearer(token)
    )
    assert ended.json()["ended"]["state"] == "up_for_retry"
    assert runner_env.ti("python_fail").next_retry_at is not None


def test_forged_expired_and_missing_tokens_are_refused(api: TestClient, runner_env: RunnerEnv) -> None:
    runner_env.queue("bash_echo")
    identity = TryIdentity(runner_env.key("bash_echo"), 1)
    forged = TokenSigner("x" * 40, run_ttl=600, claim_ttl=600).issue(identity, TokenScope.CLAIM)
    expired = signer_from_settings(runner_env.settings).issue(
        identity, TokenScope.CLAIM, now=utcnow() - timedelta(days=2)
    )
    for headers in (_bearer(forged), _bearer(expired), {}, {"Authorization": "Basic YWRtaW46YWRtaW4="}):
        answer = api.post("/execution/try/claim", json=CLAIM, headers=headers)
        assert answer.status_code == 401, answer.text
    assert (
        "expired" in api.post("/execution/try/claim", json=CLAIM, headers=_bearer(expired)).json()["detail"]
    )
    assert runner_env.ti("bash_echo").state == "queued"


def test_a_heartbeat_renews_a_token_past_half_its_life(api: TestClient, runner_env: RunnerEnv) -> None:
    _claim(api, runner_env, "waiter")
    signer = signer_from_settings(runner_env.settings)
    aging = signer.issue(
        TryIdentity(runner_env.key("waiter"), 1), TokenScope.RUN, now=utcnow() - signer.run_ttl * 0.6
    )
    fresh = api.post("/execution/try/heartbeat", headers=_bearer(aging)).json()
    assert fresh["taken_away"] is None and fresh["token"]
    assert signer.verify(fresh["token"]).expires_at > signer.verify(aging).expires_at
    young = api.post("/execution/try/heartbeat", headers=_bearer(fresh["token"])).json()
    assert young == {"token": None, "taken_away": None}


def test_the_webserver_serves_the_execution_api_to_tokens_only(runner_env: RunnerEnv) -> None:
    with TestClient(create_app(runner_env.settings)) as web:
        runner_env.queue("bash_echo")
        answer = web.post(
            "/execution/try/claim", json=CLAIM, headers=_bearer(_claim_token(runner_env, "bash_echo"))
        )
        assert answer.status_code == 200 and answer.json()["claimed"]["task_id"] == "bash_echo"
        assert web.post("/execution/try/heartbeat").status_code == 401


def test_errors_are_json_whatever_the_client_accepts(api: TestClient) -> None:
    answer = api.post("/execution/try/heartbeat", headers={"Accept": "text/html"})
    assert answer.status_code == 401 and answer.json()["detail"].startswith("the execution API needs a task token")


def test_a_claim_repeated_by_the_same_runner_stands(api: TestClient, runner_env: RunnerEnv) -> None:
    """A runner whose claim answer was lost (its server restarted) asks again and gets its claim back;
    another process still cannot take the try."""
    runner_env.queue("bash_echo")
    token = _claim_token(runner_env, "bash_echo")
    first = api.post("/execution/try/claim", json=CLAIM, headers=_bearer(token)).json()["claimed"]
    again = api.post("/execution/try/claim", json=CLAIM, headers=_bearer(token)).json()["claimed"]
    assert again is not None and again["start_date"] == first["start_date"]
    other = api.post("/execution/try/claim", json={**CLAIM, "pid": 1}, headers=_bearer(token)).json()
    assert other["claimed"] is None and "already running on worker-1 (pid 4242)" in other["refusal"]["reason"]
