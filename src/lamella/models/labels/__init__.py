"""Labels and records: `ULabel`, `Record`, `Project`, `Reference`, and records from a DataFrame."""
