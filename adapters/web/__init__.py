"""The web side: server-rendered pages (Starlette + Jinja2) on the shared HTTP server."""
