"""The notebooks run end to end (nbclient), on small data, and call the library only."""

from __future__ import annotations

import json
import os
import random
from pathlib import Path

import nbformat
import pandas as pd
import pytest
from nbclient import NotebookClient

pytestmark = [pytest.mark.slow, pytest.mark.shared]

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"

# A stand-in for the tutorial's real data (French declarations, NAF rev. 2 codes), written for
# this test: the real file (~846k rows) is not redistributed. Few rows for B, O, U and none for T,
# as in the real data.
_STAND_IN = {
    "1071C": ["BOULANGERIE PATISSERIE", "FABRICATION DE PAIN ET VIENNOISERIES", "BOULANGER ARTISANAL"],
    "4711D": ["SUPERETTE ALIMENTATION GENERALE", "EPICERIE DE QUARTIER", "VENTE DE PRODUITS ALIMENTAIRES EN MAGASIN"],
    "5610A": ["RESTAURANT TRADITIONNEL", "RESTAURATION SUR PLACE", "BRASSERIE RESTAURANT"],
    "4332A": ["MENUISERIE BOIS ET PVC", "POSE DE FENETRES ET PORTES", "MENUISIER POSEUR"],
    "4322A": ["PLOMBERIE CHAUFFAGE", "INSTALLATION SANITAIRE", "PLOMBIER CHAUFFAGISTE"],
    "6201Z": ["DEVELOPPEMENT DE LOGICIELS", "PROGRAMMATION INFORMATIQUE", "CREATION DE SITES WEB"],
    "7022Z": ["CONSEIL EN GESTION", "CONSEIL AUX ENTREPRISES", "ACCOMPAGNEMENT DES DIRIGEANTS"],
    "9602A": ["COIFFURE MIXTE", "SALON DE COIFFURE", "COIFFEUSE A DOMICILE"],
    "0111Z": ["CULTURE DE CEREALES", "CEREALIER", "PRODUCTION DE BLE ET ORGE"],
    "4941A": ["TRANSPORT ROUTIER DE MARCHANDISES", "TRANSPORTEUR POIDS LOURDS", "FRET ROUTIER"],
    "0812Z": ["EXPLOITATION DE CARRIERE DE SABLE"],
    "8411Z": ["MAIRIE ADMINISTRATION COMMUNALE"],
    "9900Z": ["AMBASSADE ETRANGERE"],
}


def _stand_in(n: int = 3000) -> pd.DataFrame:
    rng = random.Random(0)
    common = [c for c in _STAND_IN if c not in ("0812Z", "8411Z", "9900Z")]
    rows = [(t, c) for c in ("0812Z", "8411Z", "9900Z") for t in _STAND_IN[c] for _ in range(3)]
    suffixes = ["", " SARL", " EN SOCIETE", " ARTISAN", " A TITRE PRINCIPAL", " ET SERVICES ASSOCIES"]
    while len(rows) < n:
        c = rng.choice(common)
        rows.append((rng.choice(_STAND_IN[c]) + rng.choice(suffixes), c))
    return pd.DataFrame(rows, columns=["text", "nace"])


def _run(nb_name: str, env: dict[str, str], tmp_path: Path) -> nbformat.NotebookNode:
    nb = nbformat.read(NOTEBOOKS / nb_name, as_version=4)
    for cell in nb.cells:
        assert not cell.get("outputs"), f"{nb_name} is stored with outputs"
        if cell.cell_type == "code":
            assert "def " not in cell.source and "class " not in cell.source, f"{nb_name} holds pipeline logic"
    old = dict(os.environ)
    os.environ.update(env)
    try:
        NotebookClient(nb, timeout=900, kernel_name="python3", resources={"metadata": {"path": str(NOTEBOOKS)}}).execute()
    finally:
        os.environ.clear()
        os.environ.update(old)
    return nb


def _text(nb: nbformat.NotebookNode) -> str:
    parts = []
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            parts.append(out.get("text", ""))
            parts.append(json.dumps(out.get("data", {})))
    return "\n".join(parts)


def test_tutorial_notebook_offline(tmp_path: Path, shared_data: Path) -> None:
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    (mirror / "naf2025_notes_fr").symlink_to(shared_data / "naf2025_notes_fr")
    _stand_in().to_parquet(mirror / "firm_activity_data.parquet", index=False)
    env = {
        "STATCODGEN_NB_QUICK": "1",
        "STATCODGEN_MIRROR": str(mirror),
        "STATCODGEN_DATA_HOME": str(tmp_path / "cache"),
        "STATCODGEN_NB_OUT": str(tmp_path / "out"),
        "STATCODGEN_BACKEND": "offline",
    }
    nb = _run("01_tutorial_naf2025.ipynb", env, tmp_path)
    text = _text(nb)
    assert "real+offline" in text
    assert "rejected" in text


def test_study_notebook(tmp_path: Path, shared_data: Path, repo_root: Path) -> None:
    env = {
        "STATCODGEN_NB_QUICK": "1",
        "STATCODGEN_MIRROR": str(shared_data),
        "STATCODGEN_DATA_HOME": str(tmp_path / "cache"),
        "STATCODGEN_NB_OUT": str(tmp_path / "out"),
        "STATCODGEN_REPO": str(repo_root),
    }
    nb = _run("02_gap_filling_study_ons.ipynb", env, tmp_path)
    assert (tmp_path / "out" / "report.html").exists()
    assert "image/png" in _text(nb)
