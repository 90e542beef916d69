"""Core: the declarative base, column types, the instance records (users, storage, spaces, branches),
link tables, value matching, versioning, and what every registry shares (describe, graphs, bulk save)."""
