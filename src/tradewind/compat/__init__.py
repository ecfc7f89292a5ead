"""Compatibility with other workflow platforms' names: only name mapping onto Tradewind's own API."""
