"""The web UI's Jinja2 templates and static assets (CSS, a little JavaScript), served by the package."""
