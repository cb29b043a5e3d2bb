"""Operator tools run from the command line: dumps of the on-disk files, purge."""
