"""The model catalog (shipped ``catalog.json`` plus an override file) and its prices."""
