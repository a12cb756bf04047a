"""French (fr): stop words, stemmer, cross-reference and refusal phrases, style tables and offline lexicon."""

from __future__ import annotations

import re

from . import AZERTY, LanguagePack, Lexicon, StyleTables, word_set

_STOP_WORDS = """\
# French stopwords (written for this project; accents stripped at load time)
a au aux avec ce ces cet cette dans de des du elle en et eux il ils je la le les leur leurs lui ma mais
me meme mes moi mon ne nos notre nous on ou par pas pour qu que qui sa se ses son sur ta te tes toi ton
tu un une vos votre vous c d j l m n s t y
ete etre avoir ai as avons avez ont suis es est sommes etes sont
ceci cela ca celle celui ceux celles dont donc or ni car si tout tous toute toutes autre autres chez
sans sous vers entre
"""

_STYLE = StyleTables(
    clients=("POUR PARTICULIERS", "POUR PROFESSIONNELS", "AUPRES DES ENTREPRISES"),
    place="A {city}",
    verbose=("JE SOUHAITE EXERCER UNE ACTIVITE DE {x}", "MON ACTIVITE CONSISTE EN {x}",
             "CREATION D'UNE ENTREPRISE DE {x}", "ACTIVITE PRINCIPALE : {x}",
             "ACTIVITE EXERCEE : {x}"),
    verbose_neutral=("ACTIVITE PRINCIPALE : {x}", "ACTIVITE EXERCEE : {x}", "NOTRE ACTIVITE : {x}"),
    formal=("EXPLOITATION DE {x}", "ACTIVITE DE {x}", "PRESTATIONS DE {x}"),
    connectors=frozenset({"ET"}),
    tail_words=frozenset({"A", "AU", "AUX", "D'", "DE", "DES", "DU", "EN", "ET", "LA", "LE", "LES", "PAR",
                          "POUR"}),
    abbreviations={
        "FABRICATION": "FAB",
        "COMMERCE": "CCE",
        "SERVICES": "SERV",
        "SERVICE": "SERV",
        "ENTREPRISE": "ENT",
        "ENTRETIEN": "ENTR",
        "REPARATION": "REPAR",
        "INSTALLATION": "INSTALL",
        "CONSTRUCTION": "CONSTR",
        "TRAVAUX": "TVX",
        "BATIMENT": "BAT",
        "ACTIVITE": "ACT",
        "ACTIVITES": "ACT",
        "VENTE": "VTE",
        "DETAIL": "DET",
        "TRANSPORT": "TRANSP",
        "MARCHANDISES": "MARCH",
        "ALIMENTAIRE": "ALIM",
        "ALIMENTAIRES": "ALIM",
        "PRODUITS": "PDTS",
        "PRODUCTION": "PROD",
        "DISTRIBUTION": "DISTRIB",
        "LOCATION": "LOC",
        "GESTION": "GEST",
        "CONSEIL": "CONS",
        "INFORMATIQUE": "INFO",
        "MAINTENANCE": "MAINT",
        "NETTOYAGE": "NETT",
        "RESTAURATION": "RESTO",
        "RESTAURANT": "RESTO",
        "AUTOMOBILES": "AUTO",
        "VEHICULES": "VEH",
        "EQUIPEMENTS": "EQUIPTS",
        "MATERIEL": "MAT",
        "MATERIELS": "MAT",
        "INDUSTRIELLE": "INDUS",
        "ASSOCIATION": "ASSO",
        "ET": "&",
        "DIVERS": "DIV",
        "ARTICLES": "ART",
        "PARTICULIERS": "PARTIC",
        "ELECTRICITE": "ELEC",
        "ELECTRIQUE": "ELEC",
        "MENUISERIE": "MENUIS",
        "PLOMBERIE": "PLOMB",
        "CHAUFFAGE": "CHAUF",
        "EXPLOITATION": "EXPL",
        "AGRICOLE": "AGRI",
        "INTERMEDIAIRE": "INTERM",
        "PROFESSIONNELS": "PROS",
        "NEGOCE": "NEG",
        "TRANSFORMATION": "TRANSFO",
    },
    elision=re.compile(r"\b(DE|LE|LA) ([AEIOUYHÀÂÉÈÊËÎÏÔÙÛ])"),
)

_LEXICON = Lexicon(
    articles=("la ", "le ", "les ", "l'", "l’", "un ", "une ", "des ", "du ", "de ", "d'", "ayant ", "ces ", "cette ",
              "cet "),
    linkers=(" de la ", " de l'", " de l’", " des ", " du ", " de ", " d'", " d’", " pour ", " en "),
    splitters=(" et ", " ou ", " et/ou ", "/", ", ainsi que ", " ainsi que "),
    enum_markers=(" tels que ", " telles que ", " tel que ", " telle que ", " par exemple ", " p. ex. ",
                  " comme ", " notamment ", " y compris ", " c'est-à-dire "),
    cut_words=(" pour ", " par ", " dans ", " à ", " au ", " aux ", " avec ", " sur ", " qui ", " que ",
               " lorsque ", " destiné", " utilisé", " obtenu", " effectué", " réalisé",
               " fourni", " principalement ", " sous ", " en vue ", " en ayant ",
               " en utilisant ", " liés ", " liées ", " lié ", " liée ", " relatifs ", " relatives ", " provenant ",
               " exécutés ", " exercées ", " exercés ", " visant ", " concernant ", " chargés ", " chargées ",
               " chargé ", " chargée ", " exploités ", " exploitées ", " exploité ", " exploitée "),
    drop_phrases=("à façon", "pour compte de tiers", "contre rémunération ou sous contrat", "n.c.a.",
                  "pour le compte de tiers", "pour le compte d'autrui", "etc.", "etc", "de toutes sortes", "divers"),
    generic=frozenset({"activité", "activités", "affaires", "articles", "autre", "autres", "biens", "domaine",
                       "matières", "niveau", "opération", "opérations", "organismes",
                       "produit", "produits", "programmes", "service", "services",
                       "travaux", "unités", "type", "types", "genre", "genres", "sorte", "sortes", "forme",
                       "formes", "mesure", "mesures", "catégorie", "catégories", "ensemble", "différents",
                       "différentes", "fonctions", "fonction", "processus"}),
    families=(
        (("extraction", "exploitation", "dragage", "récupération", "creusement"),
         ("extraction de {o}", "extraction {o}", "{o} (extraction)", "exploitation de {o}", "carrière de {o}",
          "exploitant de {o}", "mine de {o}", "{o}")),
        (("fabrication", "transformation", "confection", "assemblage"),
         ("fabrication de {o}", "fabrication {o}", "{o} (fabrication)", "fabricant de {o}",
          "transformation de {o}", "{o}")),
        (("commerce de détail", "vente au détail", "vente", "commerce"),
         ("commerce de détail de {o}", "vente de {o}", "vente {o}", "magasin de {o}", "boutique {o}",
          "détaillant en {o}", "{o} (vente au détail)")),
        (("commerce de gros", "vente en gros", "vente de gros", "négoce"),
         ("commerce de gros de {o}", "négoce de {o}", "grossiste en {o}", "distribution de {o}")),
        (("administration", "gestion", "fonctionnement", "réglementation", "supervision", "direction",
          "financement", "mise en œuvre"),
         ("administration de {o}", "gestion de {o}", "{o} (administration)", "service public de {o}",
          "réglementation de {o}", "{o}")),
        (("activités", "activité", "services", "service", "prestations", "prestation", "fourniture", "soutien"),
         ("activités de {o}", "services de {o}", "prestations de {o}", "{o}", "{o} (services)")),
        (("réparation", "entretien", "installation"),
         ("réparation de {o}", "réparation {o}", "entretien de {o}", "réparateur de {o}")),
        (("culture", "élevage"),
         ("culture de {o}", "culture {o}", "élevage de {o}", "producteur de {o}", "exploitation {o}")),
        (("distribution",),  # of goods, but also of grants and benefits: no wholesale forms
         ("distribution de {o}", "{o} (distribution)")),
        (("production",),  # of salt and oil too: not a manufacture
         ("production de {o}", "producteur de {o}", "{o} (production)", "{o}")),
    ),
    default_forms=("{a} de {o}", "{o} ({a})", "{o}"),  # "{a} {o}" only for the activity families
    other_words=("autres", "divers"),
    weak_families=frozenset([5]),
    sticky=("à l'étranger",),
    clause_words=(" pour ", " afin ", " par ", " qui ", " que ", " lorsque ", " destiné", " utilisé",
                  " obtenu", " effectué", " réalisé", " principalement ", " en ayant ", " en utilisant ", " liés ",
                  " liées ", " relatifs ", " relatives ", " provenant ", " exécutés ", " visant ", " concernant ",
                  " chargés ", " chargées ", " chargé ", " chargée ", " exploités ", " exploitées "),
    synonyms={
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
    qualifier_tails=("ou non",),
    bare_linkers=(" de ", " d'"),
    adjective=re.compile(r"(ic|al|ar|ive|ous|ary|ile|ial|que|aire|if|ales?|aux|els?|ils?|elles?|iennes?|ives?|ifs?"
                         r"|aires?|iques?|ées?|és|eux|euses?)$"),
    invariable=frozenset({"corps", "recours", "secours", "concours", "cours", "parcours", "discours", "fonds",
                          "puits", "pays", "temps", "poids", "bois", "mois", "prix", "choix", "gaz", "procès",
                          "décès", "accès", "succès", "progrès", "engrais", "relais", "palais", "marais", "avis",
                          "colis", "permis", "débris", "tapis", "repas", "bras", "os", "jus", "processus",
                          "virus", "campus", "croix", "noix", "voix", "taux", "houx", "paix", "remous",
                          "affaires"}),
    relation=re.compile("^(?P<x>.+?) en tant qu'employeurs? (?:de|d') ?(?P<y>.+)$"),
    relation_forms=("{y} employé par {x}", "{x} employeurs de {y}", "{y} (particulier employeur)",
                     "emploi de {y} par {x}"),
)

#: The words of a persona's prompt paragraph (:meth:`statcodgen.personas.Persona.to_prompt`).
_PERSONA_WORDS = {"person": "une personne", "age": "{sex} de {age} ans", "lives": "habitant {place}",
           "education": "niveau d'études : {edu}", "declares": "déclarant", "who": "Le déclarant :",
           "personality": "Personnalité :", "style": "Style d'écriture :", "abbr_hi": "abrège beaucoup",
           "abbr_mid": "abrège certains mots", "abbr_lo": "écrit les mots en entier",
           "typos": "fait quelques fautes de frappe", "lists": "énumère plusieurs activités séparées par des virgules",
           "instruction": "Écris comme cette personne déclarerait son activité."}

#: What a whole phrase is (see LanguagePack: ``dangling_*``, ``linking_words``, ...; accents stripped at load time).
_DANGLING = word_set("""
le la les l' un une des du de d' au aux a à en dans par pour sur sous avec sans chez entre contre selon parmi
depuis hors via après avant auprès envers et ou ni mais car donc soit que qu' qui dont lorsque quand comme ainsi
notamment tels telles telle afin sauf excepté hormis ce cet cette ces leur leurs ses sa
liés liées destinés destinées destiné destinée relatifs relatives concernant provenant
agissant renfermant utilisant visant permettant servant comprenant portant exerçant
""")
_DANGLING_PHRASES = frozenset({"en tant", "y compris", "par exemple", "p. ex.", "c'est-a-dire", "a l'exception",
                               "a l'exclusion", "en vue", "en cas", "au moyen", "grace a"})
_LINKING = word_set("de d' du des à au aux a en pour par dans sur sous avec sans chez entre contre selon qui que qu' dont "
                    "lorsque afin")
_ENUM_WORDS = ("par exemple", "p. ex.", "tels que", "telles que", "tel que", "telle que", "comme", "notamment",
               "y compris", "c'est-a-dire", "en particulier")
_GENERIC = word_set("""
activité activités service services prestation prestations produit produits article articles bien biens autre autres
divers diverses général générale généraux ensemble travaux travail opération opérations affaires chose choses élément
éléments unité unités domaine domaines type types genre genres sorte sortes forme formes catégorie
catégories fabrication production transformation préparation traitement commerce vente négoce distribution gestion
administration direction fonctionnement soutien fourniture réparation entretien installation entreprise entreprises
société sociétés exploitation processus procédé procédés système systèmes programme programmes mesure mesures politique
politiques matières matériaux niveau niveaux
structure structures équipement équipements approvisionnement approvisionnements
""")
_HOLDERS = word_set("""
ménage ménages personne personnes organisation organisations institution institutions employeur
employeurs organisme organismes
""")
_ACTIVITY = word_set("extraction exploitation fabrication production transformation commerce vente culture élevage "
                     "réparation entretien installation administration gestion réglementation location")

PACK = LanguagePack(
    code="fr",
    name="French",
    snowball="french",
    stop_words=word_set(_STOP_WORDS),
    function_words=word_set("les des une dans pour par sur avec sans aux son ses leur leurs est sont qui que "
                            "comme ainsi"),
    detect_words=("comprend", "cette", "les", "des", "voir"),
    order=0,
    conjunctions=("et", "ou"),
    see_words=("voir", "cf"),
    classified_words=("class[ée]e?s?",),
    excludes_cut_words=(r"incluse?s?\s+dans",),
    refusal=(r"en\s+tant\s+qu.?(?:ia|intelligence)", r"mod[eè]le\s+de\s+langage", r"je\s+ne\s+peux\s+pas"),
    keyboard=AZERTY,
    style=_STYLE,
    persona_words=_PERSONA_WORDS,
    lexicon=_LEXICON,
    dangling_words=_DANGLING,
    dangling_phrases=_DANGLING_PHRASES,
    linking_words=_LINKING,
    enum_words=_ENUM_WORDS,
    generic_words=_GENERIC,
    activity_words=_ACTIVITY,
    holder_words=_HOLDERS,
)
