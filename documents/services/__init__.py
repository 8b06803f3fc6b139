"""Writes on documents: issuing (render, freeze, version) and signing."""
