"""The deterministic simulator: the real pure cores on a seeded fake network and clock (DESIGN.md)."""
