"""Plugins: import the plugins folder once per process and register what its AirflowPlugin subclasses bring."""
