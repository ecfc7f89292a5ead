"""Sensors that poke a SQL database through any ``DbApiHook``."""
