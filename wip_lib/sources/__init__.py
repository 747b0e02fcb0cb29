"""Sources: export readers, ERP profiles, the Procore API, input files, validation."""
