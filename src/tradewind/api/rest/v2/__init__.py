"""Routes of the REST API under /api/v2 (Airflow 3's public API shapes)."""
