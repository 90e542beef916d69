"""Collections: ordered, versioned sets of artifacts."""
