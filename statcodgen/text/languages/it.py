"""Italian (it): stop words, stemmer, cross-reference and refusal phrases.

No style tables and no offline lexicon yet: the style functions give Italian truncation, word
order, typos (QWERTY) and casing only, and the offline generator does not write Italian.
"""

from __future__ import annotations

from . import LanguagePack, QWERTY, word_set

_STOP_WORDS = """\
# Italian stopwords (written for this project; accents stripped at load time)
a ad agli ai al alla alle allo anche che chi ci come con contro cui da dagli dai dal dalla dalle dallo
degli dei del della delle dello di e ed gli ha hanno ho i il in la le lei lo loro lui ma mi ne nei nel
nella nelle nello noi non o per perche piu quale quando quella quelle quello questa queste questo se si
sia sono su sua sue sui sul sulla sulle suo suoi tra tu un una uno vi voi
"""

PACK = LanguagePack(
    code="it",
    name="Italian",
    snowball="italian",
    stop_words=word_set(_STOP_WORDS),
    function_words=word_set("gli delle degli della dello per con senza che come altri altre"),
    detect_words=("include", "della", "delle", "cfr", "questa", "degli"),
    order=3,
    conjunctions=("e", "o"),
    see_words=("cfr", "vedi"),
    classified_words=("classificat[ei]",),
    excludes_cut_words=(),
    refusal=(r"non\s+posso", r"mi\s+dispiace"),
    keyboard=QWERTY,
)
