"""The scheduler: turns schedules into runs, plans ready tasks, dispatches them to an executor."""
