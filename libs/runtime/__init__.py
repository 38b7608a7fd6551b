"""Service runtime shared by every Cortex service."""
