"""Ingestion: chunk a folder of articles and keep a Chroma collection in line with it.

`ACCEPTED_SUFFIXES` lists the file types read (`index.formats`); `add_url` downloads a page into
the upload folder and indexes it (`index.fetch`).
"""

from index.fetch import AddedPage, add_url
from index.formats import ACCEPTED_SUFFIXES
from index.ingest import IndexReport, build_index

__all__ = ["ACCEPTED_SUFFIXES", "AddedPage", "IndexReport", "add_url", "build_index"]
