"""The DB-API 2 base hook of SQL databases and the result handlers ``run`` takes."""
