"""Parser unit tests, one module per format."""
