"""Routes of the REST API under /api/v1 (Airflow 2's stable REST API)."""
