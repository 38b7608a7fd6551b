"""Shared contracts: job spec and job, quantities, statuses, events, subjects, errors."""
