"""data/README.md describes exactly the cache and mirror paths the fetchers use (``REMOTE_FILES``)."""

from __future__ import annotations

import re
from pathlib import Path

from statcodgen.sources.datasets import REMOTE_FILES

README = Path(__file__).resolve().parents[1] / "data" / "README.md"


def _table(section: str) -> list[list[str]]:
    """Body rows (cells stripped of backticks) of the first Markdown table after the heading ``section``."""
    text = README.read_text(encoding="utf-8")
    start = text.index(section)
    rows = []
    for line in text[start:].splitlines()[1:]:
        if line.startswith("|"):
            rows.append([c.strip().strip("`") for c in line.strip().strip("|").split("|")])
        elif rows:
            break
    assert len(rows) > 2, f"no table under {section!r} in {README}"
    return rows[2:] if set(rows[1][0]) <= set("-: ") else rows[1:]


def test_cache_table_lists_every_remote_file() -> None:
    rows = _table("## `data/cache/`")
    got = {key: re.match(r"\S+", path).group(0).strip("`") for key, path in rows}
    want = {key: f"{r.folder}/{r.filename}" for key, r in REMOTE_FILES.items()}
    assert got == want


def test_mirror_table_lists_every_mirror_path_in_order() -> None:
    rows = _table("## A local mirror")
    got: dict[str, list[tuple[str, bool]]] = {}
    key = ""
    for first, path, kind in rows:
        key = first or key
        got.setdefault(key, []).append((path, kind.startswith("upstream copy")))
    want = {k: list(r.mirror_paths) for k, r in REMOTE_FILES.items()}
    assert got == want

