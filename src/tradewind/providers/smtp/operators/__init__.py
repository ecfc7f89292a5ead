"""``EmailOperator``."""
