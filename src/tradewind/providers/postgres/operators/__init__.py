"""``PostgresOperator``: Airflow's older name of ``SQLExecuteQueryOperator`` on a Postgres connection."""
