"""What a task process may know of the settings: everything but their secrets (the database URL, the
broker's, signing keys). A task reaches shared state only through the execution API, with its token."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, get_args, get_origin

from pydantic import BaseModel, SecretStr

from tradewind.config.settings import Settings
from tradewind.core.workload import TASK_TOKEN_ENV, ExecuteTask

ENV_PREFIX = "TRADEWIND__"


def _is_secret(annotation: Any) -> bool:
    return annotation is SecretStr or SecretStr in get_args(annotation)


def secret_setting_names(settings: Settings) -> list[tuple[str, str]]:
    """(section, key) of every secret setting."""
    names = []
    for section_name in type(settings).model_fields:
        section = getattr(settings, section_name)
        if not isinstance(section, BaseModel):
            continue
        for key, field in type(section).model_fields.items():
            if _is_secret(field.annotation):
                names.append((section_name, key))
    return names


def _blank(annotation: Any) -> object:
    """None where allowed, an empty mapping for a mapping of secrets (``[traces] otlp_headers``), else ``""``."""
    if type(None) in get_args(annotation):
        return None
    if get_origin(annotation) is dict:
        return {}
    return SecretStr("")


def settings_for_tasks(settings: Settings) -> Settings:
    """``settings`` with every secret setting blanked (None, or empty where a value is required)."""
    updates: dict[str, BaseModel] = {}
    for section_name, key in secret_setting_names(settings):
        section = updates.get(section_name) or getattr(settings, section_name)
        field = type(section).model_fields[key]
        blank = _blank(field.annotation)
        updates[section_name] = section.model_copy(update={key: blank})
    return settings.model_copy(update=updates)


def task_environment(env: Mapping[str, str], settings: Settings) -> dict[str, str]:
    """``env`` without the variables that set secret settings (``TRADEWIND__DATABASE__URL`` ...)."""
    secret = {f"{ENV_PREFIX}{section}__{key}".upper() for section, key in secret_setting_names(settings)}
    return {name: value for name, value in env.items() if name.upper() not in secret}


#: How a runner started as a command learns the execution API's URL (the setting ``[execution_api] url``).
EXECUTION_API_URL_ENV = f"{ENV_PREFIX}EXECUTION_API__URL"


def runner_command_environment(
    env: Mapping[str, str], settings: Settings | None, workload: ExecuteTask
) -> dict[str, str]:
    """The environment of a runner an executor starts as a command (`tradewind tasks run`): ``env`` without
    the secret settings (all of it when ``settings`` is None), plus the try's token and, unless ``env``
    names one, the execution API's URL the workload carries. The one place those names are set."""
    child = task_environment(env, settings) if settings is not None else dict(env)
    if workload.token:
        child[TASK_TOKEN_ENV] = workload.token
        child.setdefault(EXECUTION_API_URL_ENV, workload.api_url)
    return child
