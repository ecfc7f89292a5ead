"""Metadata database: tables, repositories, migrations."""
