"""Writes. Every function is keyword-only, takes the acting user, and runs in a transaction."""
