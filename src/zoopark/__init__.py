"""zoopark: a coordination service that speaks Apache ZooKeeper 3.8's protocols."""

__version__ = "0.1.0"
