"""Picture analysis behind ingest: jobs, workers, results."""
