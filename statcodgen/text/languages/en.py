"""English (en): stop words, stemmer, cross-reference and refusal phrases, style tables and offline lexicon."""

from __future__ import annotations

import re

from . import LanguagePack, Lexicon, QWERTY, StyleTables, word_set

_STOP_WORDS = """\
# English stopwords (written for this project)
a an the and or nor but if of in on at to for from by with without into onto over under
as is are was were be been being am do does did has have had having
it its this that these those they them their theirs he him his she her hers we us our you your i me my
not no so than too very can will would should could may might must shall
which who whom whose what when where why how all any both each few more most other some such own same
about above below after before between through during up down out off again further then once there here
etc
"""

_STYLE = StyleTables(
    clients=("FOR BUSINESSES", "FOR PRIVATE CUSTOMERS", "TO THE TRADE"),
    place="IN {city}",
    verbose=("I RUN A SMALL BUSINESS DOING {x}", "MY BUSINESS IS {x}", "SELF EMPLOYED, {x}",
             "THE COMPANY CARRIES OUT {x}", "I WILL BE OFFERING {x}"),
    verbose_neutral=("MAIN ACTIVITY: {x}", "ACTIVITY CARRIED OUT: {x}", "OUR ACTIVITY IS {x}"),
    formal=("PROVISION OF {x}", "OPERATION OF {x}", "ACTIVITIES OF {x}"),
    connectors=frozenset({"AND"}),
    tail_words=frozenset({"AND", "BY", "FOR", "IN", "OF", "ON", "THE", "TO", "WITH"}),
    abbreviations={
        "MANUFACTURE": "MFG",
        "MANUFACTURING": "MFG",
        "AND": "&",
        "SERVICES": "SVCS",
        "SERVICE": "SVC",
        "COMPANY": "CO",
        "LIMITED": "LTD",
        "MANAGEMENT": "MGMT",
        "CONSTRUCTION": "CONSTR",
        "INSTALLATION": "INSTALL",
        "MAINTENANCE": "MAINT",
        "REPAIR": "RPR",
        "REPAIRS": "RPRS",
        "WHOLESALE": "W/SALE",
        "RETAIL": "RTL",
        "DISTRIBUTION": "DIST",
        "TRANSPORT": "TRANS",
        "EQUIPMENT": "EQUIP",
        "PRODUCTS": "PRODS",
        "DEVELOPMENT": "DEV",
        "INTERNATIONAL": "INTL",
        "INFORMATION": "INFO",
        "TECHNOLOGY": "TECH",
        "CONSULTANCY": "CONSULT",
        "CONSULTING": "CONSULT",
        "ACCOUNTANCY": "ACCTS",
        "BUILDING": "BLDG",
        "GENERAL": "GEN",
        "ASSOCIATION": "ASSN",
        "DEPARTMENT": "DEPT",
        "ELECTRICAL": "ELEC",
        "VEHICLES": "VEH",
        "VEHICLE": "VEH",
        "MACHINERY": "MACH",
        "AGRICULTURAL": "AGRI",
        "WITH": "W/",
        "WITHOUT": "W/O",
        "PROFESSIONAL": "PROF",
        "ACTIVITIES": "ACTIVS",
        "GOODS": "GDS",
        "BUSINESS": "BUS",
    },
    elision=None,
)

_LEXICON = Lexicon(
    articles=("the ", "a ", "an ", "their ", "its ", "his ", "her ", "such "),
    linkers=(" of ", " for "),
    splitters=(" and ", " or ", " and/or ", "/", ", as well as ", " as well as "),
    enum_markers=(" such as ", " e.g. ", " e.g.", " for example ", " including ", " i.e. ", " like "),
    cut_words=(" to ", " by ", " in ", " for ", " from ", " with ", " at ", " on ", " which ", " that ",
               " when ", " whether ", " chiefly ", " mainly ", " valued ", " obtained ",
               " performed ", " provided ", " used ", " intended ", " aimed ", " carried ",
               " being ", " done ", " regardless ", " supported ", " required ", " related ", " concerned ",
               " located ", " based ", " operated ", " owned ", " financed ", " funded ", " undertaken ",
               " conducted ", " whose ", " where ", " is ", " are "),
    drop_phrases=("on a fee or contract basis", "on a contract or fee basis", "n.e.c.", "etc.", "etc",
                  "and the like", "of all kinds", "various"),
    generic=frozenset({"activities", "activity", "affairs", "area", "areas", "basis", "bodies", "content",
                       "field", "fields", "goods", "items", "level", "levels",
                       "material", "materials", "means", "method", "methods",
                       "operation", "operations", "other", "own", "part", "parts",
                       "policies", "policy", "product", "products", "programmes",
                       "purpose", "purposes", "service", "services", "site", "sites",
                       "such", "things", "type", "types", "unit", "units", "use", "work",
                       "works", "measure", "measures", "kind", "kinds"}),
    families=(
        (("mining", "quarrying", "extraction", "extracting", "digging", "dredging", "excavation", "recovery",
          "winning", "working"),
         ("{o} mining", "{o} extraction", "{o} quarrying", "mining of {o}", "extraction of {o}", "{o} mine",
          "{o} quarry", "{o} pit", "{o} (mining)", "{o} (extraction)", "{o} workings")),
        (("manufacture", "manufacturing", "making", "assembly"),
         ("manufacture of {o}", "{o} manufacturing", "{o} (manufacture)", "{o} manufacturer",
          "{o} maker", "making of {o}")),
        (("retail sale", "retail trade", "retailing", "sale", "selling"),
         ("retail sale of {o}", "{o} shop", "{o} retailer", "{o} (retail)", "{o} store", "sale of {o}",
          "{o} dealer")),
        (("wholesale", "wholesale trade"),
         ("wholesale of {o}", "{o} wholesaler", "{o} (wholesale)", "{o} distributor", "distribution of {o}")),
        (("operation", "operating", "running"),
         ("operation of {o}", "{o} operator", "{o} operation")),
        (("administration", "management", "regulation", "supervision", "organisation", "organization",
          "funding", "implementation", "direction"),
         ("administration of {o}", "{o} administration", "{o} (administration)", "management of {o}",
          "regulation of {o}", "public administration of {o}")),
        (("activities", "activity", "services", "service"),
         ("{o} services", "{o} activities", "{o}", "activities of {o}", "{o} (activities)")),
        (("repair", "maintenance", "installation"),
         ("repair of {o}", "{o} repair", "{o} repairer", "{o} (repair)", "maintenance of {o}",
          "{o} maintenance")),
        (("growing", "cultivation", "farming", "breeding"),
         ("growing of {o}", "{o} growing", "{o} farm", "{o} farming", "{o} grower", "{o} (farming)")),
        (("distribution",),  # of goods, but also of grants and benefits: no wholesale forms
         ("distribution of {o}", "{o} distribution")),
        (("processing", "preparation", "treatment", "refining", "dressing", "beneficiation"),  # of ores too: no maker
         ("{a} of {o}", "{o} {a}", "{o} ({a})")),
        (("production", "producing"),  # of salt and oil too: not a manufacture
         ("production of {o}", "{o} production", "{o} producer", "{o} (production)")),
    ),
    default_forms=("{a} of {o}", "{o} {a}", "{o} ({a})", "{o}"),
    other_words=("other", "miscellaneous"),
    weak_families=frozenset([6]),
    sticky=("abroad", "overseas"),
    clause_words=(" to ", " by ", " through ", " which ", " that ", " when ", " whether ", " regardless ",
                  " chiefly ", " mainly ", " valued ", " obtained ", " performed ",
                  " provided ", " used ", " intended ", " aimed ", " carried ", " being ",
                  " done ", " covering ", " due ", " supported ", " required ", " related ", " is ", " are ",
                  " whose ", " where "),
    synonyms={
        "diplomatic mission": ("embassy", "high commission", "diplomatic representation"),
        "diplomatic missions": ("embassy", "embassies", "high commission"),
        "consular mission": ("consulate", "consular office"),
        "consular missions": ("consulate", "consulates", "consular office"),
        "domestic personnel": ("domestic staff", "household staff", "domestic workers", "servants"),
        "international organisations": ("international organisation", "international organization",
                                        "international body",
                                        "international agency"),
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
    qualifier_tails=("or not",),
    invariable=frozenset({"asbestos", "species", "series", "means", "news", "chassis", "premises", "headquarters",
                          "gas", "lens", "bus", "glass", "mathematics", "statistics", "economics", "physics"}),
    adjective=re.compile(r"(ic|al|ar|ive|ous|ary|ern|ian|ile|ial|ed|civil)$"),
    relation=re.compile("^(?P<x>.+?) as employers? of (?P<y>.+)$"),
    relation_forms=("{y} employed by {x}", "{x} employing {y}", "{y} employed by private {x}",
                     "private {x} employing {y}", "{y} in private {x}", "{y} (private {x})"),
)

#: The words of a persona's prompt paragraph (:meth:`statcodgen.personas.Persona.to_prompt`).
_PERSONA_WORDS = {"person": "a person", "age": "a {age}-year-old {sex}", "lives": "living in {place}",
           "education": "with {edu}", "declares": "declaring", "who": "The declarant:",
           "personality": "Personality:", "style": "Writing style:", "abbr_hi": "abbreviates a lot",
           "abbr_mid": "abbreviates some words", "abbr_lo": "writes words in full",
           "typos": "makes the odd typo", "lists": "lists several activities separated by commas",
           "instruction": "Write as this person would declare their activity."}

#: What a whole phrase is (see LanguagePack: ``dangling_*``, ``linking_words``, ...).
_DANGLING = word_set("""
a an the of for in on at to by with without within from into onto via per between among about than as
and or nor but that which who whom whose when where while whether if such including excluding except especially
mainly chiefly namely its their his her this these those other e.g. i.e. due owing
""")
_DANGLING_PHRASES = frozenset({"as well", "for example", "for instance", "in particular", "on behalf", "rather",
                               "by means", "in respect", "with respect", "in connection"})
_LINKING = word_set("of for in on at to by with without within from into onto via per between among about "
                    "which who whom whose that when where whether")
_ENUM_WORDS = ("such as", "e.g.", "for example", "for instance", "including", "i.e.", "like", "in particular",
               "namely", "especially")
_GENERIC = word_set("""
activity activities service services product products goods item items other others various miscellaneous general
work works operation operations thing things unit units type types kind kinds sort sorts part parts material
materials means method methods matters affairs area areas field fields level levels basis purpose purposes site sites
use own business businesses company companies enterprise enterprises trade sale sales production manufacture
manufacturing management administration supply provision support maintenance repair installation processing treatment
preparation distribution programme programmes program programs policy policies process processes system systems content
measure measures
structure structures equipment equipments supplies facilities
""")
_HOLDERS = word_set("""
household households person persons people employer employers organisation organisations
organization organizations institution institutions body bodies
""")
_ACTIVITY = word_set("mining quarrying extraction manufacture production processing sale retail wholesale trade "
                     "repair installation operation administration management regulation growing farming rental")

PACK = LanguagePack(
    code="en",
    name="English",
    snowball="english",
    stop_words=word_set(_STOP_WORDS),
    function_words=word_set("the and for with from into other than not all any its their this that such are "
                            "was which"),
    detect_words=("includes", "this", "the", "of", "see"),
    order=1,
    conjunctions=("and", "or"),
    see_words=("see",),
    classified_words=("classified",),
    excludes_cut_words=(r"included\s+in",),
    refusal=(r"as\s+an\s+ai", r"language\s+model", r"i\s+can(?:no|')t", r"i\s+cannot", r"i\s+can.?t\s+help",
             r"i\s+am\s+unable", "sorry"),
    keyboard=QWERTY,
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
    head_first=False,
)
