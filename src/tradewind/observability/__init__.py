"""Metrics and traces behind one small interface the services call; exporters chosen by settings."""
