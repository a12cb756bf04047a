"""Singular forms and lone adjectives, from a language pack (private; :mod:`statcodgen.text.languages`
exposes :func:`singular_phrase` and :func:`is_adjective`).

The rules are the plain ones a declaration needs: English drops a plural "s" ("ies" -> "y"); French
and Spanish drop a final "s"/"x", French "-aux" becomes "-al" ("minéraux" -> "minéral"); the pack's
``lexicon.invariable`` nouns keep their form ("corps", "fonds", "puits"). A French or Spanish noun
phrase is put in the singular up to its first function word, adjectives included ("forces armées
navales" -> "force armée navale"), and not at all when its head noun does not change.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..normalize import strip_accents

if TYPE_CHECKING:
    from . import LanguagePack

_AIL = ("travaux", "vitraux", "émaux", "coraux", "baux")
_AU = ("matériaux", "tuyaux", "noyaux", "joyaux", "boyaux", "préaux")


def singular(word: str, pack: LanguagePack) -> str:
    """The singular of one lower-case word (``word`` itself when the pack has no rule for it)."""
    if pack.lexicon is not None and word in pack.lexicon.invariable:
        return word
    if pack.code == "en":
        if word.endswith("ies") and len(word) > 4:
            return word[:-3] + "y"
        if word.endswith(("ches", "shes", "sses", "xes")):
            return word[:-2]
        if word.endswith("s") and not word.endswith(("ss", "us", "is", "ics")) and len(word) > 3:
            return word[:-1]
        return word
    if pack.code == "fr" and word in _AU:
        return word[:-1]
    if pack.code == "fr" and word.endswith("aux") and not word.endswith("eaux") and len(word) > 4:
        return word[:-3] + ("ail" if word in _AIL else "al")
    keep = ("ss", "us", "ys", "as", "ès", "eux") if pack.code == "fr" else ("ss", "us", "os", "is", "ys", "as")
    if word.endswith(("s", "x")) and not word.endswith(keep) and len(word) > 3:
        return word[:-1]
    return word


def singular_phrase(phrase: str, pack: LanguagePack) -> str:
    """The singular of a noun phrase: its last word when the pack's heads come last (English), else
    its head and adjectives up to the first function word (see the module docstring)."""
    w = phrase.split()
    if not w:
        return phrase
    if not pack.head_first:
        return " ".join([*w[:-1], singular(w[-1], pack)])
    if singular(w[0], pack) == w[0]:
        return phrase  # an invariable head: "minerais exploités" is not "minerais exploité"
    stop = next((i for i, x in enumerate(w) if "'" in x or strip_accents(x) in pack.dangling_words), len(w))
    return " ".join([singular(x, pack) for x in w[:stop]] + w[stop:])


def is_adjective(word: str, pack: LanguagePack) -> bool:
    """Whether a lone lower-case word looks like an adjective by its ending (the lexicon's
    ``adjective`` pattern: "consular", "navales"); False for a pack without one."""
    pattern = pack.lexicon.adjective if pack.lexicon is not None else None
    return bool(pattern is not None and " " not in word.strip() and pattern.search(word.strip()))
