"""The metadata database as the last backend: stored connections (decrypted) and variables."""

from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker

from tradewind.sdk.connection import Connection
from tradewind.sdk.errors import NotFoundError
from tradewind.secrets.base import BaseSecretsBackend
from tradewind.store import connections, variables
from tradewind.store.engine import transaction
from tradewind.store.field_cipher import FieldCipher


class MetastoreBackend(BaseSecretsBackend):
    def __init__(self, factory: sessionmaker[Session], cipher: FieldCipher) -> None:
        self.factory = factory
        self.cipher = cipher

    def get_connection(self, conn_id: str) -> Connection | None:
        with transaction(self.factory) as session:
            try:
                return connections.get_connection(session=session, conn_id=conn_id, cipher=self.cipher)
            except NotFoundError:
                return None

    def get_conn_value(self, conn_id: str) -> str | None:
        connection = self.get_connection(conn_id)
        return None if connection is None else connection.as_json()

    def get_variable(self, key: str) -> str | None:
        with transaction(self.factory) as session:
            try:
                return variables.get_variable(session=session, key=key).val
            except NotFoundError:
                return None
