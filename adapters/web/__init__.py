"""The public web pages: Starlette routes rendering server-side Jinja2 templates."""
