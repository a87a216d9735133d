"""The unattended service (`bodycam ingest watch`): the scheduled jobs and the loop that runs them."""
