"""The DAG processor: parses the DAG folder in isolated child processes and stores serialized DAGs."""
