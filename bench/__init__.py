"""Benchmarks: the same load against zoopark and Apache ZooKeeper, side by side (python -m bench.run)."""
