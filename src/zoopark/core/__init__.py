"""The pure core: codec, data tree, sessions, request pipeline. No I/O, no clock, no randomness."""
