"""HTTP routes: ``api_*`` modules serve the REST API under /api/v1, ``ui_*`` modules the web pages."""
