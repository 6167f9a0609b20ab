"""Offline data about places: UK postcode districts (postcodes.py)."""
