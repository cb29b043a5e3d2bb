"""Four-letter words, AdminServer HTTP and metrics, all built from one status snapshot."""
