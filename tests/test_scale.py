"""Training that scales (issue 14): the auto rules, the time estimate, the cap, quantisation, the dry run.

All on small data of our own; the measurements at 850,000 rows are in benchmarks/bench_scale.py.
"""

from __future__ import annotations

import random
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from statcodgen.errors import ConfigError
from statcodgen.modelling import FastTextClassifier, FastTextParams, cap_per_label, estimate_fit_seconds
from statcodgen.modelling.params import FULL_EPOCH_ROWS, MIN_EPOCH, SOFTMAX_MAX_LABELS

ROOT = Path(__file__).resolve().parents[1]


def test_auto_epoch_and_loss_follow_the_data_size() -> None:
    p = FastTextParams()
    assert (p.epoch, p.loss) == ("auto", "auto")
    small = p.resolve(11_000, 21)  # the ONS study: the values measured there
    assert (small.epoch, small.loss) == (30, "softmax")
    big = p.resolve(765_000, 743)  # an office's data at subclass level: hs, still 30 passes (it is cheap)
    assert (big.loss, big.epoch) == ("hs", 30)
    assert p.resolve(4_000_000, 743).epoch == 8 and p.resolve(50_000_000, 743).epoch == MIN_EPOCH
    sections = p.resolve(765_000, 21)  # the same data at section level: softmax, fewer passes
    assert (sections.loss, sections.epoch) == ("softmax", MIN_EPOCH)
    soft = FULL_EPOCH_ROWS["softmax"]
    assert p.resolve(2 * soft, 21).epoch == 15  # the same number of example updates as 30 passes over 100k
    assert p.resolve(soft, SOFTMAX_MAX_LABELS).loss == "softmax"
    assert p.resolve(soft, SOFTMAX_MAX_LABELS + 1).loss == "hs"
    fixed = FastTextParams(epoch=12, loss="ova").resolve(765_000, 743)  # explicit values are kept
    assert (fixed.epoch, fixed.loss) == (12, "ova")
    assert FastTextParams.benchmark().resolve(765_000, 743).epoch == 30
    with pytest.raises(ConfigError, match="'n_rows' parameter of FastTextParams.resolve"):
        p.resolve(0, 3)


def test_time_estimate_grows_with_the_work() -> None:
    soft = FastTextParams(loss="softmax", epoch=5, thread=2)
    base = estimate_fit_seconds(100_000, 700, soft)
    assert estimate_fit_seconds(200_000, 700, soft) > 1.9 * base * 0.9
    assert estimate_fit_seconds(100_000, 700, soft.model_copy(update={"epoch": 10})) > base
    assert estimate_fit_seconds(100_000, 700, soft.model_copy(update={"loss": "hs"})) < base / 3
    assert estimate_fit_seconds(100_000, 700, soft.model_copy(update={"thread": 1})) > base
    assert estimate_fit_seconds(100_000, 21, soft) < base


def _frame(counts: dict[str, int]) -> pd.DataFrame:
    rows = [(f"{lab} row {i}", lab) for lab, n in counts.items() for i in range(n)]
    return pd.DataFrame(rows, columns=["text", "label"]).sample(frac=1.0, random_state=1)


def test_cap_per_label_keeps_thin_labels_and_is_seeded() -> None:
    df = _frame({"G": 500, "C": 120, "B": 3, "U": 1})
    capped = cap_per_label(df, 100, seed=0)
    assert capped["label"].value_counts().to_dict() == {"G": 100, "C": 100, "B": 3, "U": 1}
    assert set(capped["text"]) <= set(df["text"]) and capped.index.is_monotonic_increasing
    assert set(df.loc[df["label"].isin(["B", "U"]), "text"]) <= set(capped["text"])
    again = cap_per_label(df, 100, seed=0)
    other = cap_per_label(df, 100, seed=1)
    assert capped["text"].tolist() == again["text"].tolist() and capped["text"].tolist() != other["text"].tolist()
    assert cap_per_label(df, 1000) is df  # nothing to cap: the frame itself
    with pytest.raises(ConfigError, match="'max_rows' parameter of cap_per_label"):
        cap_per_label(df, 0)


def _corpus(n_per: int = 60) -> tuple[list[str], list[str]]:
    rng = random.Random(0)
    words = {"A": ["tracteur", "moisson", "verger"], "C": ["boulangerie", "four", "pain"], "F": ["maçonnerie", "chantier", "grue"]}
    texts, labels = [], []
    for lab, ws in words.items():
        for _ in range(n_per):
            texts.append(" ".join(rng.sample(ws, 2) + [rng.choice(["sarl", "atelier", "artisan", "société"])]))
            labels.append(lab)
    return texts, labels


@pytest.mark.slow
def test_quantised_model_saves_as_ftz_and_loads(tmp_path: Path) -> None:
    texts, labels = _corpus()
    clf = FastTextClassifier(FastTextParams(dim=8, bucket=2000, thread=1, minn=0, maxn=0), language="fr").fit(texts, labels)
    assert (clf.fitted_params_.epoch, clf.fitted_params_.loss) == (30, "softmax")
    plain = clf.save(tmp_path / "plain")
    before = clf.predict(texts, k=1)["label"].tolist()
    clf.quantize()
    after = clf.predict(texts, k=1)["label"].tolist()
    folder = clf.save(tmp_path / "q")
    assert (folder / "model.ftz").is_file() and not (folder / "model.bin").exists()
    assert (folder / "model.ftz").stat().st_size < (plain / "model.bin").stat().st_size
    loaded = FastTextClassifier.load(folder)
    assert loaded.quantized_ and loaded.predict(texts, k=1)["label"].tolist() == after
    assert sum(a == b for a, b in zip(before, after)) >= 0.9 * len(texts)  # this easy task survives quantisation
    assert FastTextClassifier.load(plain).params.epoch == 30  # the saved parameters are the values used


def test_preprocessed_texts_give_the_same_model(tmp_path: Path) -> None:
    texts, labels = _corpus(20)
    params = FastTextParams(dim=8, bucket=2000, thread=1, minn=0, maxn=0, epoch=5)
    a = FastTextClassifier(params, language="fr").fit(texts, labels)
    b = FastTextClassifier(params, language="fr")
    prepped = b.preprocess_texts(texts)
    b.fit(prepped, labels, preprocessed=True)
    pa, pb = a.predict(texts, k=2), b.predict(prepped, k=2, preprocessed=True)
    pd.testing.assert_frame_equal(pa, pb)


@pytest.mark.slow
def test_run_dry_run_lists_the_trainings_and_trains_nothing(tmp_path: Path) -> None:
    texts, labels = _corpus(30)
    codes = {"A": "08.11", "C": "10.71", "F": "56.10"}  # codes of the sample notes (sections B, C, I)
    real = tmp_path / "real.csv"
    pd.DataFrame({"text": texts, "code": [codes[x] for x in labels]}).to_csv(real, index=False)
    out = tmp_path / "out"
    cfg = tmp_path / "study.toml"
    cfg.write_text(f'''output_dir = "{out}"
[notes]
path = "{ROOT / 'notes' / 'sample_notes_en.csv'}"
[real]
path = "{real}"
[targets]
labels = ["O", "T"]
n_per_target = 40
[training]
seeds = [0, 1]
learning_curve = [0.5, 1.0]
''')
    proc = subprocess.run([sys.executable, "-m", "statcodgen", "run", str(cfg), "--dry-run"], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-2000:]
    # 5 verification folds + 4 validation models (real only and 3 synthetic shares; no scarcity: no full real),
    # then real_only, real+titles, real+offline (no ceiling) x 2 seeds + curve 2 x 2, of which fraction 1 is reused
    assert "19 trainings (17 to run), expected" in proc.stdout and "softmax" in proc.stdout, proc.stdout[-1500:]
    assert proc.stdout.count("verification fold") == 5 and proc.stdout.count("selection:") == 4
    assert not out.exists() or not any(out.rglob("*.parquet"))


@pytest.mark.slow
def test_parallel_jobs_give_the_same_results_and_the_kept_model() -> None:
    from statcodgen.modelling import run_experiments, split_real

    texts, labels = _corpus(40)
    real = pd.DataFrame({"text": texts, "label": labels})
    train, test = split_real(real, test_size=0.25, seed=0)
    syn = pd.DataFrame({"text": ["verger tracteur coopérative", "pain four artisan", "grue chantier béton"] * 5, "label": ["A", "C", "F"] * 5})
    params = FastTextParams(dim=8, bucket=2000, thread=1, minn=0, maxn=0, epoch=5)
    kwargs = dict(seeds=[0, 1], params=params, language="fr", learning_curve=[0.5, 1.0], keep_models=["real+syn"], progress=False)
    one = run_experiments(train, test, {"syn": syn}, n_jobs=1, **kwargs)
    two = run_experiments(train, test, {"syn": syn}, n_jobs=2, **kwargs)
    pd.testing.assert_frame_equal(one.metrics_per_label, two.metrics_per_label)
    pd.testing.assert_frame_equal(one.learning_curve.drop(columns="f1_by_label"), two.learning_curve.drop(columns="f1_by_label"))
    assert set(two.models) == {"real+syn"}
    pd.testing.assert_frame_equal(one.models["real+syn"].predict(test["text"]), two.models["real+syn"].predict(test["text"]))
