"""The index: registries (officers, devices, assignments, cases) and clip queries."""
