"""Cross-check of quality_scifact.py's exact NDCG@10 against sentence-transformers' InformationRetrievalEvaluator,
on the untuned base model (same max_seq_length as the grid).

Usage: python benchmarks/check_ndcg.py [--max-seq-length 64]  -> benchmarks/results/check_ndcg.json
"""

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import quality_scifact as Q  # noqa: E402


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--max-seq-length", type=int, default=64)
    args = p.parse_args()
    from sentence_transformers.evaluation import InformationRetrievalEvaluator

    from st_hardneg.data import load_beir
    from st_hardneg.teachers import load_sentence_transformer

    beir = load_beir(Q.DATA, "dev")
    model = load_sentence_transformer(Q.MODEL)
    model.max_seq_length = args.max_seq_length
    relevant = {q: {d for d, s in j.items() if s > 0} for q, j in beir.qrels.items()}
    relevant = {q: r for q, r in relevant.items() if r}
    ev = InformationRetrievalEvaluator(
        queries={q: beir.queries[q] for q in relevant},
        corpus=beir.corpus,
        relevant_docs=relevant,
        ndcg_at_k=[10],
        score_functions={"cosine": lambda a, b: __import__("sentence_transformers").util.cos_sim(a, b)},
        main_score_function="cosine",
        name="scifact-dev",
        show_progress_bar=False,
        batch_size=64,
    )
    res = ev(model)
    ours = json.loads(Q.SUMMARY.read_text())["runs"]["base"]["ndcg@10"]
    out = {
        "st_evaluator": {k: v for k, v in res.items() if "ndcg" in k},
        "quality_scifact_base": ours,
        "max_seq_length": args.max_seq_length,
    }
    print(out)
    (Q.RESULTS / "check_ndcg.json").write_text(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
