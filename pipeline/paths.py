"""Names inside an output directory, shared by the stages."""

STAGING = "_staging"  # parsed records, one Parquet file per table, plus the manifest
MANIFEST = "manifest.json"  # per-file line accounting of the last ingest
CATALOG = "catalog.duckdb"  # one view per output table
