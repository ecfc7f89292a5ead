"""ASGI middleware every request passes: body limits, NUL characters, security headers, request metrics."""
