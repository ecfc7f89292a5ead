"""The authoring SDK that DAG files import: DAG, operators, @task, task groups, schedules, params, runtime."""
