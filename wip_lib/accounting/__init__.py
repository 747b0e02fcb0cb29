"""Accounting: recognition, catch-up, journal, forecast, overrides, flags, schedule."""
