"""Features: `Feature`, `FeatureValue`, dtypes, feature values of records and how queries filter by them."""
