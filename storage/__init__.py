"""Crash-safe run files: atomic writes, fsync'd appends, tolerant JSON Lines reads (standard library only)."""
