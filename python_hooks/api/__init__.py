"""The read API (``precompute serve``): app.py, routes.py, schemas.py, reader.py, answers.py."""

from python_hooks.api.app import create_app, serve

__all__ = ["create_app", "serve"]
