"""The demo: a small synthetic unit, ingested into a fresh embedded instance."""
