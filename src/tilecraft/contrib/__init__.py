"""Executors and helpers around compiled modules."""
