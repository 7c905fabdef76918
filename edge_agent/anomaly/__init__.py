"""Anomaly scoring on meter data: households, learned routines, inactivity, leaks, spikes."""
