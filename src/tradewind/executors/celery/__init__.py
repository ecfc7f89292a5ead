"""CeleryExecutor: task tries sent as data-only messages to a pool of Celery workers over Redis or RabbitMQ.

Modules: ``app`` builds the Celery app from Settings, ``worker_task`` is what a worker runs for one try,
``runner_process`` starts and stops the runner under a worker, ``task_ids`` names a try's Celery task,
``outcomes`` reads Celery states as TaskEvents, ``executor`` is the scheduler-side ``CeleryExecutor``,
``worker`` starts a worker and ``inspection`` lists workers. See docs/celery.md.
"""
