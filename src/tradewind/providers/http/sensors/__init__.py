"""Sensors of the HTTP provider."""
