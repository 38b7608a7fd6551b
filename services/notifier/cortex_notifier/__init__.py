"""The notifier: signed webhooks for public events, delivered at least once."""
