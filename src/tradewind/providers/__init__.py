"""Hooks and the operators and sensors built on them, one package per external system, laid out as Airflow's
providers (``providers/<system>/hooks|operators|sensors``) so ``airflow.providers.<system>...`` maps one to one.

Task-side code: it imports ``tradewind.sdk`` and the system's own client library, never the store, the API or
the scheduler. A client library that is an optional extra is imported inside the hook, not at module level.
"""
