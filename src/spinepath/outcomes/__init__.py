"""Follow-up and outcomes: instruments and their scoring, schedules, warning-sign alerts, per-patient
trajectories, and registry analytics (DuckDB embedded, Spark for multi-site registries)."""
