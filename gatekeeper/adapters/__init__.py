"""Adapters: all I/O lives here, behind one small interface per kind, each with an explicit registry."""
