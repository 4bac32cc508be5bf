"""Anomaly detection on operations time series (table volume, freshness lag, run duration, runs per day)."""
