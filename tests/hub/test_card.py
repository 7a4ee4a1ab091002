"""The dataset card of a mined set: the real figures of a real mining run, snippets that run, and each defect found
on the first card fixed (reproduce snippet, per-row vs per-anchor counts, license, source of a saved pool, split,
local model paths)."""

from __future__ import annotations

import re

import datasets
import numpy as np
import pytest
from huggingface_hub import DatasetCard

from st_hardneg import CandidatePool
from st_hardneg.eci import compute_eci
from st_hardneg.hub import MinedDatasetCard, load_mining_config, save_for_hub
from st_hardneg.hub.source import DataSource
from tests.conftest import minilm_path


def code_blocks(text: str, heading: str) -> list[str]:
    """The ```python blocks of the card section titled ``heading``."""
    start = text.index(f"## {heading}")
    end = text.find("\n## ", start + 1)
    return re.findall(r"```python\n(.*?)```", text[start : end if end > 0 else None], flags=re.S)


@pytest.fixture(scope="module")
def saved_minilm_run(minilm_run, tmp_path_factory):
    pool, selection = minilm_run
    folder = tmp_path_factory.mktemp("card") / "repo"
    save_for_hub(selection, folder, pool=pool, repo_id=str(folder), show_progress=False)
    return folder, pool, selection


@pytest.mark.slow
def test_the_card_shows_the_figures_of_a_real_mining_run(saved_minilm_run):
    folder, pool, selection = saved_minilm_run
    text = (folder / "README.md").read_text()
    # score distributions, recomputed from the pushed rows themselves (their stored teacher scores)
    scores = np.asarray(datasets.load_dataset(str(folder), split="train")["scores"], dtype=np.float64)
    pos, neg = scores[:, 0], scores[:, 1:]
    margins = pos[:, None] - neg
    assert f"| positive | {pos.size} | {pos.mean():.4f} | {np.percentile(pos, 5):.4f} |" in text
    assert f"| negative | {neg.size} | {neg.mean():.4f} |" in text
    assert f"| margin | {margins.size} | {margins.mean():.4f} |" in text
    # the method's removals, recounted from the pool's arrays with Eq. 2 (positive scores are >= 0 here)
    tc = pool.teacher_candidates()
    cand_scores = np.asarray(tc.scores)[pool.row_query]
    valid = np.asarray(tc.candidates)[pool.row_query] >= 0
    row_pos = np.asarray(tc.positive_scores)[:, None]
    assert (row_pos >= 0).all()
    removed = int((valid & (cand_scores > 0.95 * row_pos)).sum())
    assert f"| Removed by the mining method | {removed} | topk-percpos:0.95 |" in text
    # per row here, per anchor in the pool section: both said, with the counts behind them
    assert f"| Candidate slots looked at | {int(valid.sum())} | per row:" in text
    assert "counted once per row" in text and "Counts here are per anchor" in text
    assert f"{int((np.asarray(tc.candidates) >= 0).sum())} candidates for 56 anchors (up to 30 each" in text
    # ECI from the stored scores, the histograms, the teacher and its Hub id
    eci = compute_eci(selection.dataset, show_progress=False)
    assert f"| {eci.eci:.3f} |" in text and "the teacher's stored scores" in text
    assert "![Histograms" in text and "(plots/default-train-scores.png)" in text
    assert (folder / "plots" / "default-train-scores.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "dense, `sentence-transformers/all-MiniLM-L6-v2` (cosine similarity" in text
    meta = DatasetCard.load(folder / "README.md").data.to_dict()
    assert meta["license"] == "apache-2.0" and meta["st_hardneg"]["kind"] == "mined-dataset"


@pytest.mark.slow
def test_the_reproduce_snippets_run_and_give_the_same_rows(saved_minilm_run):
    folder, _, selection = saved_minilm_run
    blocks = code_blocks((folder / "README.md").read_text(), "Mine it again")
    assert len(blocks) == 2
    assert "DenseTeacher('sentence-transformers/all-MiniLM-L6-v2')" in blocks[1]
    assert "depth=30, seed=0" in blocks[1] and "sampling='top1_sampled', sample_from=6" in blocks[1]
    for block in blocks:
        namespace: dict = {}
        exec(compile(block, "card-snippet", "exec"), namespace)  # noqa: S102 - the card's code, as a reader runs it
        assert namespace["dataset"].to_list() == selection.dataset.to_list()


@pytest.mark.slow
def test_the_training_snippet_runs(saved_minilm_run, monkeypatch, tmp_path):
    folder, _, _ = saved_minilm_run
    (block,) = code_blocks((folder / "README.md").read_text(), "Load it and train on it")
    assert "MultipleNegativesRankingLoss" in block and 'batch_sampler="no_duplicates"' in block
    monkeypatch.chdir(tmp_path)
    # offline, the student named in the snippet comes from the packaged copy of the same model
    block = block.replace("'sentence-transformers/all-MiniLM-L6-v2'", repr(minilm_path()))
    namespace: dict = {}
    exec(compile(block, "card-snippet", "exec"), namespace)  # noqa: S102
    assert namespace["trainer"].state.global_step == 2  # 63 rows, batches of 32, one epoch
    assert (tmp_path / "hard-negatives-model").is_dir()


@pytest.mark.slow
def test_a_local_model_is_recorded_without_its_path(default_data, tmp_path):
    from sentence_transformers import SentenceTransformer

    from st_hardneg.teachers import DenseTeacher

    pairs, corpus = default_data
    path = minilm_path()
    for teacher in (DenseTeacher(path), DenseTeacher(SentenceTransformer(path, device="cpu"))):
        pool = CandidatePool.build(pairs, teacher, corpus=corpus, depth=10, show_progress=False)
        selection = pool.select(num_negatives=2, show_progress=False, return_statistics=True)
        out = tmp_path / f"out-{len(list(tmp_path.iterdir()))}"
        save_for_hub(selection, out, pool=pool, source=DataSource.of("st-hardneg embedded default"), plots=False)
        name = path.rstrip("/").split("/")[-1]
        recorded = selection.context["teacher"]
        assert recorded["model"] is None and recorded["local_model"] == name and recorded["name"] == name
        for file in out.rglob("*"):
            if file.suffix in (".md", ".json"):
                text = file.read_text()
                assert path not in text and str(tmp_path) not in text, file
        assert f"local model `{name}` (not on the Hub" in (out / "README.md").read_text()
        config = load_mining_config(out)
        with pytest.raises(ValueError, match="the teacher was a local model"):
            config.make_teacher()
        again = config.mine(pairs, corpus, teacher=DenseTeacher(path), show_progress=False)
        assert again.to_list() == selection.dataset.to_list()


def test_a_set_selected_from_a_saved_pool_records_the_original_dataset_and_split(bm25_pool, tmp_path):
    pool = CandidatePool(**{k: getattr(bm25_pool, k) for k in _POOL_FIELDS}, config=dict(bm25_pool.config))
    pool.config["source"] = DataSource.of("BeIR/scifact", split="train").to_dict()
    pool.save(tmp_path / "pool")
    loaded = CandidatePool.load(tmp_path / "pool")
    selection = loaded.select("topk-marginpos:0.5", num_negatives=2, show_progress=False, return_statistics=True)
    save_for_hub(selection, tmp_path / "out", plots=False, show_progress=False)
    card = DatasetCard.load(tmp_path / "out" / "README.md")
    assert card.data.source_datasets == ["BeIR/scifact"]
    assert "| Source | [`BeIR/scifact`](https://huggingface.co/datasets/BeIR/scifact), split `train` |" in card.text
    assert "| Split | `train` |" in card.text
    assert str(tmp_path / "pool") not in card.text and "`pool`" not in card.text
    assert "pairs = load_dataset('BeIR/scifact', split='train')" in card.text
    assert card.data.license == "unknown" and "that data's license applies" in card.text


def test_license_language_and_source_datasets_are_passed_through(bm25_pool, tmp_path):
    selection = bm25_pool.select(num_negatives=2, show_progress=False, return_statistics=True)

    class Agreement:
        def to_markdown(self):
            return "| teachers | Jaccard@10 |\n|---|---:|\n| bm25 / e5 | 0.123 |"

    card = MinedDatasetCard.from_selection(
        selection,
        source="my-org/qa-pairs",
        license="cc-by-4.0",
        language="en",
        source_datasets=["my-org/corpus"],
        agreement=Agreement(),
    )
    assert card.data.license == "cc-by-4.0" and card.data.language == ["en"]
    assert card.data.source_datasets == ["my-org/corpus", "my-org/qa-pairs"]
    assert "## Teacher agreement\n\n| teachers | Jaccard@10 |" in card.text
    assert "License: `cc-by-4.0`." in card.text


def test_without_matplotlib_the_card_says_so(bm25_pool, tmp_path, monkeypatch):
    import st_hardneg.hub.push as push

    monkeypatch.setattr(push, "matplotlib_available", lambda: False)
    selection = bm25_pool.select(num_negatives=2, show_progress=False, return_statistics=True)
    files = save_for_hub(selection, tmp_path / "out", show_progress=False)
    assert not any(f.startswith("plots/") for f in files)
    text = (tmp_path / "out" / "README.md").read_text()
    assert "matplotlib was not installed" in text and 'pip install "st-hardneg[plots]"' in text


_POOL_FIELDS = (
    "queries",
    "corpus",
    "row_query",
    "row_positive",
    "positives_indptr",
    "positives_indices",
    "teachers",
    "statistics",
)


def test_a_deepened_set_shows_its_deeper_rows_and_mines_again_the_same(default_data, tmp_path):
    pairs, corpus = default_data
    pool = CandidatePool.build(pairs, "bm25", corpus=corpus, depth=5, seed=3, show_progress=False)
    pool.config["source"] = DataSource.of("st-hardneg embedded default").to_dict()
    selection = pool.select(
        "topk-percpos:0.95", num_negatives=2, on_short="deepen", show_progress=False, return_statistics=True
    )
    s = selection.statistics
    assert s.rows_deepened > 0 and s.negatives_deepened > 0
    save_for_hub(selection, tmp_path / "out", pool=pool, plots=False, show_progress=False)
    text = (tmp_path / "out" / "README.md").read_text()
    assert "their anchor searched again deeper (down to the whole corpus)" in text
    depths = ", ".join(f"{n} rows to depth {d}" for d, n in s.deepened_depths.items())
    line = f"| Rows searched deeper | {s.rows_deepened} | {s.negatives_deepened} negatives found beyond depth 5 "
    assert line + f"({depths}) |" in text
    again = load_mining_config(tmp_path / "out").mine(pairs, corpus, show_progress=False)
    assert again.to_list() == selection.dataset.to_list()
