"""Triggers: small async objects a deferred task waits on, run by `tradewind triggerer`."""
