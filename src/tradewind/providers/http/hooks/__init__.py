"""Hooks of the HTTP provider."""
