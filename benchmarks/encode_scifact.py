"""Encode the SciFact corpus (and train queries) with a dense teacher once, resumably, into a DenseTeacher cache.

Encoding 5,183 abstracts with all-mpnet-base-v2 on 2 shared CPU cores takes the better part of an hour, so this
script encodes in chunks of ``--chunk`` documents, saves each chunk under ``benchmarks/cache/encode/<name>/``, picks
up where it stopped when run again, and at the end writes the embedding matrix under the exact key
:class:`st_hardneg.teachers.DenseTeacher` computes (model weights, prompt, normalisation, texts), so
``DenseTeacher(model, cache_folder=...)`` then reads it instead of encoding.

Usage (from the repository root):
    nohup python benchmarks/encode_scifact.py --model /work/models/all-mpnet-base-v2 --max-seq-length 256 \
        > benchmarks/cache/encode_mpnet.log 2>&1 &

The model's ``max_seq_length`` is not part of DenseTeacher's cache key: whoever reads this cache must set the same
``max_seq_length`` on the teacher model (``benchmarks/ensembles_scifact.py`` does).
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT.parent / "shared" / "data" / "scifact"
CACHE = ROOT / "benchmarks" / "cache"


def scifact_layout():
    """The pool layout of SciFact train (queries and corpus in the order a CandidatePool gives them)."""
    from st_hardneg.data import load_pairs
    from st_hardneg.pool.inputs import build_layout, read_corpus, read_pairs

    pairs, corpus = load_pairs(DATA, split="train")
    _, _, anchors, positives = read_pairs(pairs)
    return build_layout(anchors, positives, read_corpus(corpus))


def load_model(path: str, max_seq_length: int):
    from st_hardneg.teachers import load_sentence_transformer

    model = load_sentence_transformer(path, device="cpu")
    model.max_seq_length = max_seq_length
    return model


def encode_resumable(model, texts: list[str], role: str, folder: Path, chunk: int, batch_size: int) -> np.ndarray:
    folder.mkdir(parents=True, exist_ok=True)
    parts = []
    for start in range(0, len(texts), chunk):
        path = folder / f"{role}_{start:07d}.npy"
        if not path.exists():
            t = time.perf_counter()
            encode = model.encode_query if role == "query" else model.encode_document
            emb = encode(
                texts[start : start + chunk],
                batch_size=batch_size,
                convert_to_numpy=True,
                normalize_embeddings=True,
                show_progress_bar=False,
            ).astype(np.float32)
            tmp = path.with_suffix(".tmp.npy")
            np.save(tmp, emb)
            tmp.replace(path)
            print(
                f"{role} {start}-{start + len(emb)} of {len(texts)} in {time.perf_counter() - t:.0f}s "
                f"(load {os.getloadavg()[0]:.1f})",
                flush=True,
            )
        parts.append(np.load(path))
    return np.concatenate(parts)


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--model", required=True, help="model name or path")
    p.add_argument("--max-seq-length", type=int, required=True)
    p.add_argument("--cache-folder", default=str(CACHE / "emb"))
    p.add_argument("--chunk", type=int, default=256)
    p.add_argument("--batch-size", type=int, default=16)
    args = p.parse_args()

    import torch

    from st_hardneg.teachers import DenseTeacher

    layout = scifact_layout()
    model = load_model(args.model, args.max_seq_length)
    teacher = DenseTeacher(model, cache_folder=args.cache_folder)
    name = Path(args.model).name + f"-{args.max_seq_length}"
    folder = CACHE / "encode" / name
    t0 = time.perf_counter()
    info = {"model": args.model, "max_seq_length": args.max_seq_length, "torch_threads": torch.get_num_threads()}
    info["loadavg_start"] = list(os.getloadavg())
    for role, texts in (("query", list(layout.queries)), ("document", list(layout.corpus))):
        emb = encode_resumable(model, texts, role, folder, args.chunk, args.batch_size)
        # Stored under DenseTeacher's own key, so a later teacher.encode() of these texts reads it.
        key = teacher.cache_key(texts, role)
        teacher.cache.get_or_compute(key, lambda emb=emb: emb)
        info[f"{role}_shape"] = list(emb.shape)
        info[f"{role}_key"] = key
    info["seconds_this_run"] = time.perf_counter() - t0
    info["loadavg_end"] = list(os.getloadavg())
    (folder / "done.json").write_text(json.dumps(info, indent=2))
    print(json.dumps(info, indent=2), flush=True)


if __name__ == "__main__":
    main()
