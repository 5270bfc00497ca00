"""tracejoin tests."""
