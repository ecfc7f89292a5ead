"""Secrets backends: where connections and variables are looked up, in order, before the database."""

from tradewind.secrets.base import BaseSecretsBackend
from tradewind.secrets.chain import SecretsChain, secrets_chain

__all__ = ["BaseSecretsBackend", "SecretsChain", "secrets_chain"]
