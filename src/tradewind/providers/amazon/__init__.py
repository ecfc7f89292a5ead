"""The Amazon provider: an ``S3Hook`` for S3 and S3-compatible object stores (boto3, the ``amazon`` extra)."""
