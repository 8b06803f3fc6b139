"""The outside world, behind small interfaces: each adapter has a real implementation and a local one
for development and tests, chosen by a setting at call time."""
