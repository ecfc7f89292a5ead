"""The REST API: Airflow's stable API under /api/v1 and its v2 shapes under /api/v2."""
