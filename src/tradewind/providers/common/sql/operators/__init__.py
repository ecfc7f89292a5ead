"""Operators that run SQL through any ``DbApiHook``."""
