"""Audited user actions, the one place both the webserver (UI and REST APIs) and the command line change
state on a user's behalf: trigger, clear, mark, run state, pause, delete a DAG, variables and pools, asset
events, users and API tokens. Each action runs in one transaction and writes its audit log entry there.

The layer sits between the services (api, scheduler, ...) and the executors, so the CLI calls it without
importing ``tradewind.api``."""
