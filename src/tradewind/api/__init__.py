"""The webserver: the web UI and the REST API, built by ``tradewind.api.app.create_app``."""
