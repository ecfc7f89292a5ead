"""PostgreSQL through psycopg 3 (the ``postgres`` extra)."""
