"""Ingest: dock stations and interrogation-room recorders into write-once storage."""
