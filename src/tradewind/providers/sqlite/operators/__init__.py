"""``SqliteOperator``: Airflow's older name of ``SQLExecuteQueryOperator`` on a SQLite connection."""
