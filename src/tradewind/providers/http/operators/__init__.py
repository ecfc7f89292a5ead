"""Operators of the HTTP provider."""
