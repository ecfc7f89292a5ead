"""Providers shared by several systems (Airflow's ``common`` providers)."""
