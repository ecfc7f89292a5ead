"""Kubernetes ``Status`` objects: how the API server reports every error (and some successes)."""

from __future__ import annotations

from typing import Any

#: HTTP code -> the `reason` the real API server puts in its Status.
REASONS = {
    400: "BadRequest",
    403: "Forbidden",
    404: "NotFound",
    405: "MethodNotAllowed",
    409: "Conflict",
    410: "Expired",
    415: "UnsupportedMediaType",
    422: "Invalid",
    429: "TooManyRequests",
    500: "InternalError",
    503: "ServiceUnavailable",
}


def status_object(
    code: int,
    message: str,
    *,
    reason: str | None = None,
    details: dict[str, Any] | None = None,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Success" if code < 400 else "Failure",
        "message": message,
        "reason": reason or REASONS.get(code, ""),
        "code": code,
    }
    if details:
        body["details"] = details
    return body


class ApiError(Exception):
    """Raised inside the fake server; turned into an HTTP response carrying a Status object."""

    def __init__(
        self,
        code: int,
        message: str,
        *,
        reason: str | None = None,
        details: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.status = status_object(code, message, reason=reason, details=details)
        self.headers = headers or {}


def not_found(resource: str, name: str) -> ApiError:
    return ApiError(
        404, f'{resource} "{name}" not found', details={"name": name, "kind": resource}
    )


def already_exists(resource: str, name: str) -> ApiError:
    return ApiError(
        409,
        f'{resource} "{name}" already exists',
        reason="AlreadyExists",
        details={"name": name, "kind": resource},
    )


def conflict(resource: str, name: str, why: str) -> ApiError:
    return ApiError(
        409,
        f'Operation cannot be fulfilled on {resource} "{name}": {why}',
        reason="Conflict",
        details={"name": name, "kind": resource},
    )


def invalid(kind: str, name: str, causes: list[tuple[str, str]]) -> ApiError:
    """422 Invalid, with one cause per offending field, as the API server's validation reports them."""
    text = ", ".join(f"{field}: {message}" for field, message in causes)
    return ApiError(
        422,
        f'{kind} "{name}" is invalid: {text}',
        details={
            "name": name,
            "kind": kind,
            "causes": [{"reason": "FieldValueInvalid", "message": m, "field": f} for f, m in causes],
        },
    )


def too_many_requests(retry_after: int) -> ApiError:
    return ApiError(
        429,
        "Too many requests, please try again later.",
        details={"retryAfterSeconds": retry_after},
        headers={"Retry-After": str(retry_after)},
    )


def quota_exceeded(resource: str, name: str) -> ApiError:
    return ApiError(
        403,
        f'{resource} "{name}" is forbidden: exceeded quota: compute-resources, requested: pods=1, '
        "used: pods=10, limited: pods=10",
        details={"name": name, "kind": resource},
    )


def internal_error(message: str = "the fake API server was told to fail this request") -> ApiError:
    return ApiError(500, f"Internal error occurred: {message}", details={"causes": [{"message": message}]})


def expired(requested: int, oldest: int) -> dict[str, Any]:
    return status_object(410, f"too old resource version: {requested} ({oldest})", reason="Expired")
