"""Hooks of the Amazon provider."""
