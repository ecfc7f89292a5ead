"""Request and response bodies of the REST API, with Airflow's stable REST API field names."""
