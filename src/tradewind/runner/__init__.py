"""The task runner: executes one task try (`tradewind tasks run`), the one place besides the DAG processor
that imports user code."""
