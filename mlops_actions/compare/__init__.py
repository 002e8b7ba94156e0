"""The comparison with a base: one revision, which base, the diff as DVC computes it."""
