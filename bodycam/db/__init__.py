"""The database: typed models, engine set-up, migrations and schema checks."""
