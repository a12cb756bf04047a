"""Language packs: every shipped pack is complete, lookups fail clearly, and a new language is one file."""

from __future__ import annotations

import dataclasses
import sys
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import statcodgen.text.languages as languages
from statcodgen.errors import ConfigError
from statcodgen.text import (
    LanguagePack,
    available_languages,
    get_language,
    reference_pattern,
    refusal_pattern,
    register_language,
    resolve_language,
    see_pattern,
    strip_accents,
)

#: Optional parts: a language may have no style tables or offline lexicon yet (Italian), and no
#: extra words at which the Excludes matcher cuts an item.
_OPTIONAL = {"style", "lexicon", "excludes_cut_words", "persona_words"}


def test_shipped_languages_in_order() -> None:
    assert available_languages() == ("fr", "en", "es", "it")


@pytest.mark.parametrize("code", ["fr", "en", "es", "it"])
def test_every_shipped_pack_is_filled(code: str) -> None:
    pack = get_language(code)
    assert pack.code == code
    for f in dataclasses.fields(LanguagePack):
        if f.name not in _OPTIONAL:
            assert getattr(pack, f.name) not in (None, "", (), frozenset()), f"{code}: {f.name} is empty"
    assert len(pack.stop_words) > 50 and all(w.isascii() and w == w.lower() for w in pack.stop_words)
    assert pack.stemmer().stemWord("x") is not None
    assert pack.stemmer() is pack.stemmer()  # cached
    if code != "it":  # Italian has no style tables or offline lexicon yet
        assert pack.style is not None and pack.lexicon is not None and pack.persona_words
        for f in dataclasses.fields(pack.style):
            if f.name != "elision":
                assert getattr(pack.style, f.name), f"{code}: style.{f.name} is empty"


def test_unknown_language_names_the_available_ones() -> None:
    with pytest.raises(ConfigError, match=r"Unknown language 'xx'.*'fr', 'en', 'es', 'it'"):
        get_language("xx")


def test_resolve_language_is_the_one_fallback() -> None:
    notes = pd.DataFrame({"code": ["01.11"]})
    assert resolve_language(None, notes) == "en"
    notes.attrs["language"] = "fr"
    assert resolve_language(None, notes) == "fr"
    assert resolve_language("es", notes) == "es"
    assert resolve_language(None) == "en"


def test_patterns_cover_every_language() -> None:
    for text in ("As an AI I cannot", "je ne peux pas", "Lo siento", "mi dispiace", "modele de langage"):
        assert refusal_pattern().search(text), text
    assert not refusal_pattern().search("MANUFACTURE OF SORRYNESS")
    cut = see_pattern(tail=True)
    assert cut.sub("", "wooden crates, see 16.24") == "wooden crates"
    assert cut.sub("", "caisses (voir 16.24)").strip() == "caisses"
    assert cut.sub("", "cajas, véase 16.24") == "cajas"
    assert reference_pattern().search("classées en 16.24").start() == 0


def test_strip_accents_options() -> None:
    assert strip_accents("Élevage de bœufs") == "Elevage de bœufs"
    assert strip_accents("Élevage de bœufs", ligatures=True) == "Elevage de boeufs"
    assert strip_accents("d’Œuvre", ligatures=True) == "d'oeuvre"
    assert strip_accents("が") == "か"  # the voicing mark has a combining class
    assert strip_accents("が", marks="blocks") == "か\u3099"  # ... but is outside the diacritic blocks
    with pytest.raises(ConfigError, match="marks"):
        strip_accents("x", marks="some")


_GERMAN = '''
"""German: a pack written by a user, as one new file."""

import re

from . import LanguagePack, Lexicon, StyleTables, word_set

PACK = LanguagePack(
    code="de",
    name="German",
    snowball="german",
    stop_words=word_set("der die das und oder von mit für in im zu den dem des ein eine einer"),
    function_words=word_set("der die das und von mit für"),
    detect_words=("umfasst", "diese", "der", "die", "siehe"),
    conjunctions=("und", "oder"),
    see_words=("siehe",),
    classified_words=("klassifiziert",),
    excludes_cut_words=(),
    refusal=(r"als\\s+ki", r"es\\s+tut\\s+mir\\s+leid"),
    keyboard=("QWERTZUIOP", "ASDFGHJKL", "YXCVBNM"),
    style=StyleTables(
        clients=("FUER PRIVATKUNDEN",), place="IN {city}", verbose=("ICH BETREIBE {x}",),
        verbose_neutral=("HAUPTTAETIGKEIT: {x}",), formal=("BETRIEB VON {x}",), connectors=frozenset({"UND"}),
        tail_words=frozenset({"DER", "DIE", "DAS", "UND", "VON"}), abbreviations={"HERSTELLUNG": "HERST"},
    ),
    lexicon=Lexicon(
        articles=("der ", "die ", "das "), linkers=(" von ",), splitters=(" und ", " oder "),
        enum_markers=(" wie ",), cut_words=(" für ",), drop_phrases=(), generic=frozenset({"waren"}),
        families=((("herstellung",), ("herstellung von {o}", "{o} (herstellung)")),),
        default_forms=("{a} von {o}", "{o}"),
    ),
)
'''


@pytest.fixture
def german(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """A ``de.py`` pack module dropped into the languages package (through a second folder)."""
    (tmp_path / "de.py").write_text(textwrap.dedent(_GERMAN), encoding="utf-8")
    monkeypatch.setattr(languages, "__path__", [*languages.__path__, str(tmp_path)])
    languages._shipped.cache_clear()
    languages._pattern.cache_clear()
    yield get_language("de")
    sys.modules.pop("statcodgen.text.languages.de", None)
    monkeypatch.undo()
    languages._shipped.cache_clear()
    languages._pattern.cache_clear()


def test_a_new_language_is_one_new_file(german: LanguagePack) -> None:
    from statcodgen.generation.offline_lines import LEXICON, candidate_lines
    from statcodgen.modelling.preprocess import preprocess, stopwords
    from statcodgen.personas.style import abbreviate, add_context, add_typos, verbose_form
    from statcodgen.sources.notes import _guess_language, excluded_codes

    assert "de" in available_languages() and german.name == "German"
    # preprocessing: stop words and stemmer of the new pack
    assert "und" in stopwords("de")
    assert preprocess(["Herstellung von Möbeln und Holzwaren"], language="de") == ["herstellung mobeln holzwaren"]
    assert preprocess(["Herstellung von Möbeln"], language="de", stem=True) == ["herstell mobel"]
    # notes: cross-references, refusal phrases and language guess include it
    assert excluded_codes("Reparatur, siehe 33.12") == ["33.12"]
    assert refusal_pattern().search("Als KI kann ich das nicht")
    assert _guess_language(["Diese Klasse umfasst die Herstellung der Möbel, siehe 31.01"]) == "de"
    # style tables and keyboard
    rng = np.random.default_rng(0)
    assert add_context("MOEBEL", language="de", rng=rng) == "MOEBEL FUER PRIVATKUNDEN"
    assert verbose_form("MOEBEL", language="de", rng=rng) == "ICH BETREIBE MOEBEL"
    assert abbreviate("HERSTELLUNG VON MOEBEL", 1.0, language="de", rng=rng) == "HERST VON MOEBEL"
    typo = add_typos("ZZZZ", 1.0, language="de", rng=np.random.default_rng(3))
    assert typo != "ZZZZ"
    # offline lexicon
    assert "de" in LEXICON
    lines = [line for _, line in candidate_lines(["Herstellung von Möbeln"], language="de")]
    assert "herstellung von möbeln" in lines and "möbeln (herstellung)" in lines


def test_register_language_adds_a_users_pack() -> None:
    pack = dataclasses.replace(get_language("en"), code="xx-test", name="Test", refusal=("zzz\\s+refuse",))
    try:
        register_language(pack)
        assert get_language("xx-test") is pack
        assert refusal_pattern().search("ZZZ REFUSE")
    finally:
        languages._REGISTERED.pop("xx-test", None)
        languages._pattern.cache_clear()
    assert not refusal_pattern().search("zzz refuse")
    with pytest.raises(ConfigError, match="pack"):
        register_language("de")  # type: ignore[arg-type]
