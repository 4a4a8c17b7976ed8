"""Ingestion: chunk a folder of articles and keep a Chroma collection in line with it."""

from index.ingest import IndexReport, build_index

__all__ = ["IndexReport", "build_index"]
