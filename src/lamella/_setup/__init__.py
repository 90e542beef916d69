"""Instance lifecycle above the registries: create, connect, migrate, base rows, `ln.settings`, check."""
