"""Thin views, one module per area; frontend/urls.py lists every route."""
