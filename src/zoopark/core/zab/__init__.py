"""ZAB: leader election and atomic broadcast, as pure state machines."""
