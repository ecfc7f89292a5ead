"""Sensors of the Amazon provider."""
