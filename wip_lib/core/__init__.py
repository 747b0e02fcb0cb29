"""Core: errors, money, periods, schema, settings, codes. Imports nothing of ours."""
