"""Routes of the web UI's pages and their JSON feeds."""
