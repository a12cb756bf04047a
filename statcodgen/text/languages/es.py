"""Spanish (es): stop words, stemmer, cross-reference and refusal phrases, style tables and offline lexicon."""

from __future__ import annotations

import re

from . import LanguagePack, Lexicon, QWERTY, StyleTables, word_set

_STOP_WORDS = """\
# Spanish stopwords (written for this project; accents stripped at load time)
a al algo algunas algunos ante antes como con contra cual cuando de del desde donde durante e el ella
ellas ellos en entre era es esa esas ese eso esos esta estas este esto estos fue ha hay la las le les lo
los mas me mi mis muy ni no nos o otra otras otro otros para pero por porque que quien se sea ser si sin
sobre su sus tambien te tiene todo todos tu tus u un una unas uno unos y ya
"""

_STYLE = StyleTables(
    clients=("PARA PARTICULARES", "PARA EMPRESAS"),
    place="EN {city}",
    verbose=("QUIERO DARME DE ALTA PARA {x}", "MI ACTIVIDAD ES {x}", "EMPRESA DEDICADA A {x}",
             "ME DEDICO A {x}"),
    verbose_neutral=("ACTIVIDAD PRINCIPAL: {x}", "NUESTRA ACTIVIDAD ES {x}", "ACTIVIDAD QUE REALIZAMOS: {x}"),
    formal=("EXPLOTACION DE {x}", "ACTIVIDAD DE {x}", "PRESTACION DE {x}"),
    connectors=frozenset({"Y"}),
    tail_words=frozenset({"A", "DE", "DEL", "E", "EL", "EN", "LA", "LAS", "LOS", "PARA", "POR", "Y"}),
    abbreviations={
        "FABRICACION": "FAB",
        "COMERCIO": "COM",
        "SERVICIOS": "SERV",
        "SERVICIO": "SERV",
        "MAYOR": "MAY",
        "MENOR": "MEN",
        "REPARACION": "REPAR",
        "INSTALACION": "INSTAL",
        "CONSTRUCCION": "CONSTR",
        "TRANSPORTE": "TRANSP",
        "MANTENIMIENTO": "MANT",
        "ACTIVIDADES": "ACT",
        "ACTIVIDAD": "ACT",
        "PRODUCTOS": "PROD",
        "DISTRIBUCION": "DISTRIB",
        "ALQUILER": "ALQ",
        "GESTION": "GEST",
        "ASOCIACION": "ASOC",
        "SOCIEDAD": "SOC",
        "LIMITADA": "LTDA",
        "VEHICULOS": "VEH",
        "ELECTRICIDAD": "ELEC",
        "INFORMATICA": "INFORM",
        "ALIMENTACION": "ALIM",
        "GENERAL": "GRAL",
        "DEPARTAMENTO": "DPTO",
        "EQUIPOS": "EQUIP",
        "Y": "&",
        "ARTICULOS": "ART",
        "EMPRESA": "EMP",
        "PARTICULARES": "PART",
        "AGRICOLA": "AGR",
    },
    elision=None,
)

_LEXICON = Lexicon(
    articles=("el ", "la ", "los ", "las ", "un ", "una ", "unos ", "unas ", "del ", "de "),
    linkers=(" de la ", " de los ", " de las ", " del ", " de ", " para "),
    splitters=(" y ", " e ", " o ", " u ", "/", ", así como ", " así como "),
    enum_markers=(" tales como ", " tal como ", " como ", " por ejemplo ", " p. ej. ", " incluido ",
                  " incluidos ", " incluida ", " incluidas ", " es decir "),
    cut_words=(" para ", " por ", " en ", " con ", " sobre ", " que ", " cuando ", " destinad", " utilizad",
               " obtenid", " realizad", " principalmente ", " a ", " al "),
    drop_phrases=("a cambio de una retribución o por contrata", "por contrata", "n.c.o.p.", "etc.", "etc",
                  "de todo tipo", "diversos"),
    generic=frozenset({"actividad", "actividades", "artículos", "asuntos", "bienes", "materiales", "nivel",
                       "operaciones", "organismos", "otras", "otros", "producto",
                       "productos", "programas", "servicio", "servicios", "trabajos",
                       "unidades"}),
    families=(
        (("extracción", "explotación", "dragado", "recuperación"),
         ("extracción de {o}", "extracción {o}", "{o} (extracción)", "explotación de {o}", "cantera de {o}",
          "mina de {o}", "{o}")),
        (("fabricación", "producción", "elaboración", "transformación", "preparación", "tratamiento",
          "refinado", "montaje"),
         ("fabricación de {o}", "fabricación {o}", "{o} (fabricación)", "fabricante de {o}",
          "producción de {o}", "productor de {o}", "elaboración de {o}", "{o}")),
        (("comercio al por menor", "venta al por menor", "venta", "comercio"),
         ("comercio al por menor de {o}", "venta de {o}", "venta {o}", "tienda de {o}", "minorista de {o}",
          "{o} (venta al por menor)")),
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
    default_forms=("{a} de {o}", "{o} ({a})", "{o}"),  # "{a} {o}" only for the activity families
    other_words=("otros", "diversos"),
    weak_families=frozenset([5]),
    sticky=("en el extranjero",),
    clause_words=(" para ", " por ", " que ", " cuando ", " destinad", " utilizad", " obtenid", " realizad",
                  " principalmente "),
    synonyms={
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
    qualifier_tails=("o no",),
    bare_linkers=(" de ",),
    adjective=re.compile(r"(al|ales|ar|ares|ico|ica|icos|icas|ivo|iva|ivos|ivas|ario|aria|arios|arias)$"),
    invariable=frozenset({"análisis", "crisis", "tesis", "dosis", "virus", "lunes", "martes", "paraguas"}),
    relation=re.compile("^(?P<x>.+?) como empleadores? de (?P<y>.+)$"),
    relation_forms=("{y} empleado por {x}", "{x} empleadores de {y}", "{y} (hogar)", "empleo de {y} en {x}"),
)

#: The words of a persona's prompt paragraph (:meth:`statcodgen.personas.Persona.to_prompt`).
_PERSONA_WORDS = {"person": "una persona", "age": "{sex} de {age} años", "lives": "que vive en {place}",
           "education": "estudios: {edu}", "declares": "que declara", "who": "El declarante:",
           "personality": "Personalidad:", "style": "Estilo de escritura:", "abbr_hi": "abrevia mucho",
           "abbr_mid": "abrevia algunas palabras", "abbr_lo": "escribe las palabras completas",
           "typos": "comete alguna errata", "lists": "enumera varias actividades separadas por comas",
           "instruction": "Escribe como esta persona declararía su actividad."}

#: What a whole phrase is (see LanguagePack: ``dangling_*``, ``linking_words``, ...; accents stripped at load time).
_DANGLING = word_set("""
el la los las lo un una unos unas al del de a en por para con sin sobre entre hacia hasta desde según ante tras
contra mediante durante y e o u ni pero sino que quien quienes cual cuales cuyo cuya cuyos cuyas como cuando donde
incluido incluida incluidos incluidas tales su sus este esta estos estas ese esa otros otras otro otra así
principalmente especialmente excepto salvo
""")
_DANGLING_PHRASES = frozenset({"por ejemplo", "en calidad", "en particular", "es decir", "por medio"})
_LINKING = word_set("de del al a en por para con sin sobre entre hacia hasta desde según mediante que quien cual cuyo "
                    "cuya cuyos cuyas cuando donde")
_ENUM_WORDS = ("tales como", "tal como", "como", "por ejemplo", "incluido", "incluida", "incluidos", "incluidas",
               "en particular", "es decir")
_GENERIC = word_set("""
actividad actividades servicio servicios producto productos artículo artículos bien bienes otro otros otra otras
diversos diversas general generales trabajo trabajos operación operaciones asuntos cosa cosas unidad unidades
tipo tipos clase clases forma formas fabricación producción transformación comercio venta distribución
gestión administración suministro apoyo reparación mantenimiento instalación empresa empresas explotación proceso
procesos sistema sistemas programa programas medida medidas política políticas materiales nivel niveles
estructura estructuras equipo equipos suministros
""")
_HOLDERS = word_set("""
hogar hogares persona personas organización organizaciones institución instituciones empleador
empleadores organismo organismos
""")
_ACTIVITY = word_set("extracción explotación fabricación producción transformación comercio venta cultivo cría "
                     "reparación mantenimiento instalación administración gestión regulación alquiler")

PACK = LanguagePack(
    code="es",
    name="Spanish",
    snowball="spanish",
    stop_words=word_set(_STOP_WORDS),
    function_words=word_set("los las del una por para con sin sus que como este esta otros otras etc"),
    detect_words=("comprende", "esta", "véase", "las", "los"),
    order=2,
    conjunctions=("y", "e", "o"),
    see_words=("v[ée]ase",),
    classified_words=("clasificad[ao]s?",),
    excludes_cut_words=("v[ée]anse", r"clasificad\w*"),
    refusal=(r"como\s+(?:ia|modelo\s+de\s+lenguaje)", r"no\s+puedo", r"lo\s+siento"),
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
)
