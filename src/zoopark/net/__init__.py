"""asyncio adapters: the client port (framing, four-letter words, connection limits)."""
