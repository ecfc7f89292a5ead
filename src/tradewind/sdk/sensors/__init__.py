"""Sensors: tasks that wait for a condition, poking it until it holds (Airflow's meaning)."""
