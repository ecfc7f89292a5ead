"""What every SQL database shares: ``DbApiHook``, ``SQLExecuteQueryOperator`` and ``SqlSensor``."""
