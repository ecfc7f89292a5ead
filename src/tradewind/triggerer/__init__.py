"""The triggerer: a service that runs the triggers deferred tasks wait on, beside the scheduler."""
