"""Reads, already permission-filtered: one module per area (cases, intake, rooms, …)."""
