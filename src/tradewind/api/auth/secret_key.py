"""The key that signs session cookies: from settings, or generated once and kept under TRADEWIND_HOME."""

from __future__ import annotations

from tradewind.config.secret_files import persisted_secret
from tradewind.config.settings import Settings

SECRET_KEY_FILE = "webserver_secret_key"


def load_secret_key(settings: Settings) -> str:
    configured = settings.webserver.secret_key
    if configured is not None and configured.get_secret_value():
        return configured.get_secret_value()
    return persisted_secret(settings.home / SECRET_KEY_FILE, key="webserver.secret_key")
