"""Renzhi 韧治 — community resilience governance."""
