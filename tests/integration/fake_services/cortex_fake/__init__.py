"""A stand-in service for testing `cortex up`: put `tests/integration/fake_services` on PYTHONPATH."""
