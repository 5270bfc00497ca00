"""tracejoin pipeline: discover -> parse -> stage -> correlate -> report."""

__version__ = "0.1.0"
