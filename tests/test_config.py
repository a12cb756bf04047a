"""Study configuration: validated, unknown keys rejected with the key named, paths resolved."""

from __future__ import annotations

from pathlib import Path

import pytest

from statcodgen.study.config import StudyConfig, load_config
from statcodgen.errors import ConfigError

MINIMAL = {
    "notes": {"fetch": "nace_rev2"},
    "real": {"fetch": "ons_index"},
    "targets": {"labels": ["B", "O"]},
}


def test_minimal_config_gets_defaults() -> None:
    cfg = load_config(MINIMAL)
    assert cfg.generation.backend == "offline"
    assert cfg.cleaning.threshold == 0.9
    assert cfg.training.seeds == [0, 1, 2]


def test_shipped_study_config_is_valid(repo_root: Path) -> None:
    cfg = load_config(repo_root / "configs" / "ons_study.toml")
    assert cfg.targets.labels == ["B", "O", "T", "U"]
    assert cfg.training.simulate_scarcity == {"B": 2, "O": 2, "T": 2, "U": 2}
    # relative output_dir resolved against the config's folder
    assert Path(cfg.output_dir) == (repo_root / "runs" / "ons_study").resolve()


@pytest.mark.parametrize(
    "patch, fragment",
    [
        ({"targets": {"labels": ["B"], "n_per_targt": 5}}, "targets.n_per_targt: unknown key"),
        ({"bogus": 1}, "bogus: unknown key"),
        ({"targets": {"labels": []}}, "targets.labels"),
        ({"notes": {"fetch": "nace_rev2", "path": "x.csv"}}, "exactly one of"),
        ({"generation": {"backend": "openai"}}, "needs an [llm] section"),
        ({"cleaning": {"threshold": 1.5}}, "cleaning.threshold"),
        ({"generation": {"mode": "paraphrase"}}, "generation.mode"),
        ({"real": {"fetch": "ons_index", "test_size": 0}}, "real.test_size"),
        ({"llm": {"model": "m", "concurency": 4}}, "llm: Invalid LLMConfig: concurency"),
        ({"llm": {"model": "m", "base_url": [{"base_url": "http://a/v1", "concurrency": 0}]}}, "concurrency"),
    ],
)
def test_bad_configs_name_the_key(patch: dict, fragment: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_config({**MINIMAL, **patch})
    assert fragment in str(info.value)


def test_the_llm_mode_reaches_the_generator(tmp_path: Path) -> None:
    from statcodgen.study.stages import make_generator

    cfg = load_config({**MINIMAL, "generation": {"backend": "openai", "mode": "write"}, "llm": {"model": "m"}})
    assert make_generator(cfg, out_dir=tmp_path).mode == "write"
    assert make_generator(load_config({**MINIMAL, "generation": {"backend": "openai"}, "llm": {"model": "m"}}),
                          out_dir=tmp_path).mode == "rewrite"  # the default


def test_bad_toml_file(tmp_path: Path) -> None:
    bad = tmp_path / "study.toml"
    bad.write_text("[notes\nfetch = 1\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(bad)
    with pytest.raises(ConfigError, match="not found"):
        load_config(tmp_path / "missing.toml")


def test_fingerprint_changes_only_with_named_sections() -> None:
    a = load_config(MINIMAL)
    b = load_config({**MINIMAL, "cleaning": {"threshold": 0.8}})
    assert a.fingerprint("notes", "targets") == b.fingerprint("notes", "targets")
    assert a.fingerprint("cleaning") != b.fingerprint("cleaning")
    assert isinstance(a, StudyConfig)
