"""Reading what offices publish: explanatory notes, labelled real data, and the fetchers (cache, checksum, local mirror)."""

from __future__ import annotations

from .datasets import (
    RemoteFile,
    REMOTE_FILES,
    get_data_home,
    get_mirror,
    fetch_file,
    download_file,
    sha256_of,
    fetch_naf2025_notes,
    fetch_nace_rev2_notes,
    fetch_nace_rev21_notes,
    fetch_ons_index,
    fetch_firm_activity_data,
    load_labelled,
    rejected_rows,
    load_ons_index,
    load_firm_activity_data,
)
from .notes import (
    load_notes,
    parse_items,
    excluded_codes,
    detect_layout,
    LAYOUTS,
    NOTES_COLUMNS,
)

__all__ = [
    "RemoteFile",
    "REMOTE_FILES",
    "get_data_home",
    "get_mirror",
    "fetch_file",
    "download_file",
    "sha256_of",
    "fetch_naf2025_notes",
    "fetch_nace_rev2_notes",
    "fetch_nace_rev21_notes",
    "fetch_ons_index",
    "fetch_firm_activity_data",
    "load_labelled",
    "rejected_rows",
    "load_ons_index",
    "load_firm_activity_data",
    "load_notes",
    "parse_items",
    "excluded_codes",
    "detect_layout",
    "LAYOUTS",
    "NOTES_COLUMNS",
]
