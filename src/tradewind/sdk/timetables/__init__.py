"""Timetables: when a DAG's scheduled runs are due and which data interval each covers (Airflow's classes
and meaning; see :mod:`tradewind.sdk.schedules` for how a ``schedule=`` argument picks one)."""
