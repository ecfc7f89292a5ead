"""SQLite files through the standard library's ``sqlite3``."""
