"""What every provider service shares; a network adds only its `Network` adapter (docs/providers.md)."""
