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

#: What a whole phrase is (see LanguagePack: ``dangling_*``, ``linking_words``, ...; accents stripped at load time).
_DANGLING = word_set("""
il lo la i gli le l' un uno una un' del dello della dei degli delle dell' al allo alla ai agli alle all' dal dallo
dalla dai dagli dalle dall' nel nello nella nei negli nelle nell' sul sullo sulla sui sugli sulle sull' di d' a ad da
in con su per tra fra e ed o od né ma che cui quale quali come quando dove inclusi incluse incluso inclusa nonché
ovvero oppure tramite mediante verso presso senza contro tali suo sua suoi sue questo questa questi queste altri altre
""")
_DANGLING_PHRASES = frozenset({"ad esempio", "per esempio", "in qualita", "in quanto", "in particolare", "tra cui"})
_LINKING = word_set("di d' del dello della dei degli delle dell' a ad al allo alla ai agli alle all' da dal dallo dalla "
                    "dai dagli dalle dall' in nel nello nella nei negli nelle nell' su sul sulla sui sulle con per tra "
                    "fra tramite mediante presso senza che cui quale quali")
_ENUM_WORDS = ("ad esempio", "per esempio", "come", "quali", "tra cui", "inclusi", "incluso", "incluse", "inclusa",
               "compreso", "compresi", "in particolare")
_GENERIC = word_set("""
attività servizio servizi prodotto prodotti articolo articoli bene beni altro altri altra altre vari varie generale
generali lavoro lavori operazione operazioni affari cosa cose unità tipo tipi genere generi forma forme
fabbricazione produzione trasformazione commercio vendita distribuzione gestione amministrazione fornitura supporto
riparazione manutenzione installazione impresa imprese sistema sistemi programma programmi misura misure politica
politiche materiali livello livelli
struttura strutture attrezzatura attrezzature forniture
""")
_HOLDERS = word_set("""
famiglia famiglie persona persone organizzazione organizzazioni istituzione istituzioni datore
datori ente enti
""")
_ACTIVITY = word_set("estrazione fabbricazione produzione trasformazione commercio vendita coltivazione allevamento "
                     "riparazione manutenzione installazione amministrazione gestione regolamentazione noleggio")

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
    dangling_words=_DANGLING,
    dangling_phrases=_DANGLING_PHRASES,
    linking_words=_LINKING,
    enum_words=_ENUM_WORDS,
    generic_words=_GENERIC,
    activity_words=_ACTIVITY,
    holder_words=_HOLDERS,
)
