"""Close: the one computation of a period, the period store, closing, the bundle."""
