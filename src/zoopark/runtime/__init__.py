"""The event loop of one server: inputs into the core, actions out to sockets and disk."""
