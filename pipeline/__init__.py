"""tracejoin pipeline: discover -> parse -> stage -> correlate -> report."""

import parsers  # noqa: F401  (its allocator settings must come before polars loads)

__version__ = "0.1.0"
