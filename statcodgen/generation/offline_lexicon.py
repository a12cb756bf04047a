"""General language tables for the offline generator (no text from any classification or index).

For each language: leading determiners to strip, the linkers between an activity noun and its
object ("of" / "de" / "de"), cut words that end an object noun phrase, generic nouns that are not
worth a short form on their own, and *activity families*: activity nouns that declarations use
interchangeably, each with the surface forms a declaration can take around an object ``{o}``.

A family entry is ``(trigger nouns, forms)``; a phrase whose activity noun is one of the triggers
is rendered with every form of its family (and with the phrase's own wording).
"""

from __future__ import annotations

__all__ = ["LEXICON", "Lexicon"]

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Lexicon:
    """Language tables used by :mod:`statcodgen.generation.offline` (all lowercase)."""

    articles: tuple[str, ...]
    linkers: tuple[str, ...]
    splitters: tuple[str, ...]          # coordination inside a list: "and", "or"
    enum_markers: tuple[str, ...]       # "such as", "e.g." ... introduce an enumeration
    cut_words: tuple[str, ...]          # words after which an object phrase is cut for a short form
    drop_phrases: tuple[str, ...]       # boilerplate removed everywhere
    generic: frozenset[str]             # nouns too vague to stand alone
    families: tuple[tuple[tuple[str, ...], tuple[str, ...]], ...]
    default_forms: tuple[str, ...]      # forms for an activity noun outside every family
    other_words: tuple[str, ...] = field(default=())  # "other" / destination variants
    weak_families: frozenset[int] = field(default=frozenset())  # families where a bare head noun misleads
    sticky: tuple[str, ...] = field(default=())  # place qualifiers never cut off ("abroad")
    clause_words: tuple[str, ...] = field(default=())  # start a purpose/means clause: objects end there


_EN = Lexicon(
    articles=("the ", "a ", "an ", "their ", "its ", "his ", "her "),
    linkers=(" of ", " for "),
    splitters=(" and ", " or ", " and/or ", "/"),
    enum_markers=(" such as ", " e.g. ", " e.g.", " for example ", " including ", " i.e. ", " like "),
    cut_words=(" to ", " by ", " in ", " for ", " from ", " with ", " at ", " on ", " which ", " that ",
               " when ", " whether ", " chiefly ", " mainly ", " valued ", " obtained ", " performed ",
               " provided ", " used ", " intended ", " aimed ", " carried ", " being ", " done ",
               " regardless "),
    drop_phrases=("on a fee or contract basis", "on a contract or fee basis", "n.e.c.", "etc.", "etc",
                  "and the like", "of all kinds", "various"),
    generic=frozenset({"activities", "activity", "services", "service", "products", "product", "goods",
                       "content", "other", "operations", "operation", "purposes", "purpose", "basis",
                       "materials", "material", "things", "items", "units", "unit", "part", "parts",
                       "such", "use", "own", "field", "fields", "areas", "area", "methods", "method",
                       "means", "type", "types", "work", "works", "programmes", "affairs", "bodies",
                       "level", "levels", "policy", "policies", "sites", "site"}),
    families=(
        (("mining", "quarrying", "extraction", "extracting", "digging", "dredging", "excavation",
          "recovery", "winning", "working"),
         ("{o} mining", "{o} extraction", "{o} quarrying", "mining of {o}", "extraction of {o}",
          "{o} mine", "{o} quarry", "{o} pit", "{o} (mining)", "{o} (extraction)", "{o} workings")),
        (("manufacture", "manufacturing", "production", "making", "producing", "processing",
          "preparation", "treatment", "refining", "assembly"),
         ("manufacture of {o}", "{o} manufacturing", "{o} (manufacture)", "{o} manufacturer",
          "production of {o}", "{o} production", "{o} maker", "making of {o}", "{o} (production)")),
        (("retail sale", "retail trade", "retailing", "sale", "selling"),
         ("retail sale of {o}", "{o} shop", "{o} retailer", "{o} (retail)", "{o} store",
          "sale of {o}", "{o} dealer")),
        (("wholesale", "wholesale trade", "distribution"),
         ("wholesale of {o}", "{o} wholesaler", "{o} (wholesale)", "{o} distributor",
          "distribution of {o}")),
        (("operation", "operating", "running"),
         ("operation of {o}", "{o} operator", "{o} operation")),
        (("administration", "management", "regulation", "supervision",
          "organisation", "organization", "funding", "implementation", "direction"),
         ("administration of {o}", "{o} administration", "{o} (administration)", "management of {o}",
          "regulation of {o}", "public administration of {o}")),
        (("activities", "activity", "services", "service"),
         ("{o} services", "{o} activities", "{o}", "activities of {o}", "{o} (activities)")),
        (("repair", "maintenance", "installation"),
         ("repair of {o}", "{o} repair", "{o} repairer", "{o} (repair)", "maintenance of {o}",
          "{o} maintenance")),
        (("growing", "cultivation", "farming", "breeding"),
         ("growing of {o}", "{o} growing", "{o} farm", "{o} farming", "{o} grower", "{o} (farming)")),
    ),
    default_forms=("{a} of {o}", "{o} {a}", "{o} ({a})", "{o}"),
    other_words=("other", "miscellaneous"),
    weak_families=frozenset({6}),
    sticky=("abroad", "overseas"),
    clause_words=(" to ", " by ", " through ", " which ", " that ", " when ", " whether ", " regardless ",
                  " chiefly ", " mainly ", " valued ", " obtained ", " performed ", " provided ", " used ",
                  " intended ", " aimed ", " carried ", " being ", " done ", " covering ", " due "),
)

_FR = Lexicon(
    articles=("la ", "le ", "les ", "l'", "l’", "un ", "une ", "des ", "du ", "de ", "d'", "ayant "),
    linkers=(" de la ", " de l'", " de l’", " des ", " du ", " de ", " d'", " d’", " pour ", " en "),
    splitters=(" et ", " ou ", " et/ou ", "/"),
    enum_markers=(" tels que ", " telles que ", " tel que ", " telle que ", " par exemple ", " p. ex. ",
                  " comme ", " notamment ", " y compris ", " c'est-à-dire "),
    cut_words=(" pour ", " par ", " dans ", " à ", " au ", " aux ", " avec ", " sur ", " qui ", " que ",
               " lorsque ", " destiné", " utilisé", " obtenu", " effectué", " réalisé", " fourni",
               " principalement ", " sous ", " en vue "),
    drop_phrases=("à façon", "pour compte de tiers", "contre rémunération ou sous contrat",
                  "n.c.a.", "etc.", "etc", "de toutes sortes", "divers"),
    generic=frozenset({"activités", "activité", "services", "service", "produits", "produit", "biens",
                       "autres", "autre", "opérations", "opération", "matières", "articles", "unités",
                       "travaux", "programmes", "affaires", "organismes", "niveau", "domaine"}),
    families=(
        (("extraction", "exploitation", "dragage", "récupération", "creusement"),
         ("extraction de {o}", "extraction {o}", "{o} (extraction)", "exploitation de {o}",
          "carrière de {o}", "exploitant de {o}", "mine de {o}", "{o}")),
        (("fabrication", "production", "transformation", "préparation", "traitement", "confection",
          "raffinage", "assemblage"),
         ("fabrication de {o}", "fabrication {o}", "{o} (fabrication)", "fabricant de {o}",
          "production de {o}", "producteur de {o}", "transformation de {o}", "{o}")),
        (("commerce de détail", "vente au détail", "vente", "commerce"),
         ("commerce de détail de {o}", "vente de {o}", "vente {o}", "magasin de {o}",
          "boutique {o}", "détaillant en {o}", "{o} (vente au détail)")),
        (("commerce de gros", "vente en gros", "vente de gros", "négoce", "distribution"),
         ("commerce de gros de {o}", "négoce de {o}", "grossiste en {o}", "distribution de {o}")),
        (("administration", "gestion", "fonctionnement", "réglementation", "supervision", "direction",
          "financement", "mise en œuvre"),
         ("administration de {o}", "gestion de {o}", "{o} (administration)", "service public de {o}",
          "réglementation de {o}", "{o}")),
        (("activités", "activité", "services", "service", "prestations", "prestation", "fourniture",
          "soutien"),
         ("activités de {o}", "services de {o}", "prestations de {o}", "{o}", "{o} (services)")),
        (("réparation", "entretien", "installation"),
         ("réparation de {o}", "réparation {o}", "entretien de {o}", "réparateur de {o}")),
        (("culture", "élevage"),
         ("culture de {o}", "culture {o}", "élevage de {o}", "producteur de {o}", "exploitation {o}")),
    ),
    default_forms=("{a} de {o}", "{a} {o}", "{o} ({a})", "{o}"),
    other_words=("autres", "divers"),
    weak_families=frozenset({5}),
    sticky=("à l'étranger",),
    clause_words=(" pour ", " afin ", " par ", " qui ", " que ", " lorsque ", " destiné", " utilisé",
                  " obtenu", " effectué", " réalisé", " principalement "),
)

_ES = Lexicon(
    articles=("el ", "la ", "los ", "las ", "un ", "una ", "unos ", "unas ", "del ", "de "),
    linkers=(" de la ", " de los ", " de las ", " del ", " de ", " para "),
    splitters=(" y ", " e ", " o ", " u ", "/"),
    enum_markers=(" tales como ", " tal como ", " como ", " por ejemplo ", " p. ej. ", " incluido ",
                  " incluidos ", " incluida ", " incluidas ", " es decir "),
    cut_words=(" para ", " por ", " en ", " con ", " sobre ", " que ", " cuando ", " destinad",
               " utilizad", " obtenid", " realizad", " principalmente ", " a ", " al "),
    drop_phrases=("a cambio de una retribución o por contrata", "por contrata", "n.c.o.p.", "etc.", "etc",
                  "de todo tipo", "diversos"),
    generic=frozenset({"actividades", "actividad", "servicios", "servicio", "productos", "producto",
                       "bienes", "otros", "otras", "operaciones", "materiales", "artículos", "unidades",
                       "trabajos", "programas", "asuntos", "organismos", "nivel"}),
    families=(
        (("extracción", "explotación", "dragado", "recuperación"),
         ("extracción de {o}", "extracción {o}", "{o} (extracción)", "explotación de {o}",
          "cantera de {o}", "mina de {o}", "{o}")),
        (("fabricación", "producción", "elaboración", "transformación", "preparación", "tratamiento",
          "refinado", "montaje"),
         ("fabricación de {o}", "fabricación {o}", "{o} (fabricación)", "fabricante de {o}",
          "producción de {o}", "productor de {o}", "elaboración de {o}", "{o}")),
        (("comercio al por menor", "venta al por menor", "venta", "comercio"),
         ("comercio al por menor de {o}", "venta de {o}", "venta {o}", "tienda de {o}",
          "minorista de {o}", "{o} (venta al por menor)")),
        (("comercio al por mayor", "distribución"),
         ("comercio al por mayor de {o}", "mayorista de {o}", "distribución de {o}")),
        (("administración", "gestión", "funcionamiento", "regulación", "supervisión", "dirección",
          "financiación"),
         ("administración de {o}", "gestión de {o}", "{o} (administración)", "servicio público de {o}",
          "regulación de {o}", "{o}")),
        (("actividades", "actividad", "servicios", "servicio", "prestación", "suministro", "apoyo"),
         ("actividades de {o}", "servicios de {o}", "{o}", "{o} (servicios)")),
        (("reparación", "mantenimiento", "instalación"),
         ("reparación de {o}", "reparación {o}", "mantenimiento de {o}", "taller de {o}")),
        (("cultivo", "cría"),
         ("cultivo de {o}", "cultivo {o}", "cría de {o}", "productor de {o}", "explotación {o}")),
    ),
    default_forms=("{a} de {o}", "{a} {o}", "{o} ({a})", "{o}"),
    other_words=("otros", "diversos"),
    weak_families=frozenset({5}),
    sticky=("en el extranjero",),
    clause_words=(" para ", " por ", " que ", " cuando ", " destinad", " utilizad", " obtenid", " realizad",
                  " principalmente "),
)

LEXICON: dict[str, Lexicon] = {"en": _EN, "fr": _FR, "es": _ES}

# Everyday words that declarations use for the institutional nouns of notes (general knowledge,
# not taken from any labelled data). Keys are matched on whole words inside an object phrase.
SYNONYMS: dict[str, dict[str, tuple[str, ...]]] = {
    "en": {
        "diplomatic mission": ("embassy", "high commission", "diplomatic representation"),
        "diplomatic missions": ("embassy", "embassies", "high commission"),
        "consular mission": ("consulate", "consular office"),
        "consular missions": ("consulate", "consulates", "consular office"),
        "domestic personnel": ("domestic staff", "household staff", "domestic workers", "servants"),
        "international organisations": ("international organisation", "international organization",
                                        "international body", "international agency"),
        "police forces": ("police", "police force", "police station", "constabulary"),
        "fire brigades": ("fire brigade", "fire station", "fire and rescue service"),
        "law courts": ("law court", "court", "courts", "tribunal"),
        "defence forces": ("armed forces", "military"),
        "army": ("army", "military"),
        "taxation": ("tax", "taxes", "revenue"),
        "customs administration": ("customs", "customs office"),
        "retirement pensions": ("pensions", "pension scheme"),
        "quarry": ("quarry", "pit"),
        "bakery": ("bakery", "baker"),
        "motor vehicles": ("cars", "car", "vehicles"),
        "footwear": ("shoes", "boots"),
        "clothing": ("clothes", "garments"),
        "furniture": ("furniture",),
    },
    "fr": {
        "missions diplomatiques": ("ambassade", "ambassades", "représentation diplomatique"),
        "missions consulaires": ("consulat", "consulats"),
        "personnel domestique": ("employés de maison", "personnel de maison", "domestiques"),
        "organisations internationales": ("organisation internationale", "organisme international"),
        "forces de police": ("police", "commissariat", "gendarmerie"),
        "tribunaux": ("tribunal", "cour"),
        "véhicules automobiles": ("voitures", "automobiles"),
        "chaussures": ("chaussures",),
        "vêtements": ("vêtements", "habillement"),
    },
    "es": {
        "misiones diplomáticas": ("embajada", "embajadas", "representación diplomática"),
        "oficinas consulares": ("consulado", "consulados"),
        "personal doméstico": ("empleados del hogar", "servicio doméstico", "empleada de hogar"),
        "organizaciones internacionales": ("organización internacional", "organismo internacional"),
        "fuerzas de policía": ("policía", "comisaría"),
        "tribunales": ("tribunal", "juzgado"),
        "vehículos de motor": ("coches", "automóviles"),
        "calzado": ("zapatos", "calzado"),
        "prendas de vestir": ("ropa", "prendas"),
    },
}

__all__ += ["SYNONYMS"]
