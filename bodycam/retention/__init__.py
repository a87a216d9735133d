"""Retention: the pure policy and the scheduler that applies it."""
