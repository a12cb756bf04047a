"""statcodgen: synthetic training data for statistical activity classifications.

Stages (one module each): notes -> classification -> datasets/coverage -> prompts/personas ->
llm/journal/parsing/offline -> generate -> normalize/dedup/filters -> train -> evaluate ->
experiments -> report; ``pipeline`` runs them all from one TOML config; ``cli`` is a thin shell.
"""

__version__ = "0.1.0"
