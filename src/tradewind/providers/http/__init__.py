"""The HTTP provider: ``HttpHook`` (httpx), ``HttpOperator`` and ``HttpSensor``, at Airflow's import paths."""
