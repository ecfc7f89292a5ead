"""The scheduler tests' deployment (a TRADEWIND_HOME, a database and real `tradewind` processes), reused."""

from tests.integration.scheduler.conftest import deployment

__all__ = ["deployment"]
