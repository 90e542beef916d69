"""The UI's pages, one module per group; each module's `routes(templates)` gives its routes."""
