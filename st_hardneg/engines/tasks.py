"""The work of one shard, the same on every engine (run in this process, or in a Ray actor or task).

Each function reads its inputs from files of the work folder (or small arrays it is given), writes its output
atomically (:mod:`st_hardneg.atomic`) and returns a small dict of facts for the manifest:

- :func:`encode_shard`: a range of documents or anchors -> ``.npy`` embeddings (dense teachers);
- :func:`search_block`: one anchor shard against one document shard -> that block's top-k and the scores of the
  anchor shard's (anchor, positive) and fill-reserve pairs whose document is in the block;
- :func:`merge_anchor_shard`: the blocks of an anchor shard -> its pool arrays (global top-k, same tie-break as the
  in-process search: score descending, then corpus index ascending);
- :func:`score_anchor_shard`: any other teacher (BM25, ...): an anchor shard through ``TeacherIndex.run`` -> its
  pool arrays.
"""

from __future__ import annotations

import resource
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from st_hardneg.atomic import write_npy, write_npz
from st_hardneg.build.building import AnchorPlan, AnchorShard, finish_anchors
from st_hardneg.pool.candidates import TEACHER_ARRAYS
from st_hardneg.teachers.base import TeacherIndex, TeacherOutput, pad_topk, sort_candidates

__all__ = [
    "TeacherChanged",
    "encode_shard",
    "merge_anchor_shard",
    "read_part",
    "read_texts",
    "score_anchor_shard",
    "search_block",
]

_PART_ARRAYS = ("rows", *TEACHER_ARRAYS)


class TeacherChanged(ValueError):
    """The teacher's weights differ from those the build's earlier shards were encoded with."""


def read_texts(path: str | Path, start: int, stop: int) -> list[str]:
    """Texts ``[start, stop)`` of a pool's ``queries.arrow`` / ``corpus.arrow`` (memory-mapped, only the range read)."""
    import pyarrow.feather as feather

    column = feather.read_table(str(path), memory_map=True).column("text")
    return column.slice(start, stop - start).to_pylist()


def encode_shard(
    teacher: Any,
    role: str,
    texts_file: str | Path,
    start: int,
    stop: int,
    out_file: str | Path,
    expected_weights: str | None = None,
) -> dict[str, Any]:
    """Encode texts ``[start, stop)`` with a :class:`~st_hardneg.teachers.DenseTeacher` (``role`` "query" or
    "document"; no embedding cache: the shard file is the checkpoint) and save them to ``out_file``.

    Raises:
        TeacherChanged: the teacher's weights are not ``expected_weights`` (checked before anything is written).
    """
    t0 = time.perf_counter()
    weights = teacher.weights_fingerprint()
    if expected_weights is not None and weights != expected_weights:
        raise TeacherChanged(
            f"teacher {teacher.name!r} has other weights ({weights}) than the shards already encoded in this build "
            f"({expected_weights}); pass restart=True (--restart) to start again with this model"
        )
    texts = read_texts(texts_file, start, stop)
    emb = teacher.encode(texts, role, show_progress=False, use_cache=False)
    write_npy(out_file, emb)
    return {
        "rows": len(texts),
        "dim": int(emb.shape[1]),
        "weights": weights,
        "config": teacher.config(),
        "seconds": time.perf_counter() - t0,
        "peak_rss_mib": peak_rss_mib(),
    }


def search_block(
    query_file: str | Path,
    doc_file: str | Path,
    doc_start: int,
    plan: AnchorPlan,
    out_file: str | Path,
    *,
    backend: str = "exact",
    query_chunk_size: int = 1024,
    corpus_chunk_size: int = 65536,
    device: str | None = None,
) -> dict[str, Any]:
    """Search one document shard for every anchor of one anchor shard, and score the plan's pairs whose document is
    in the shard (``NaN`` for the others), in the same pass."""
    from st_hardneg.teachers.dense import pairwise_dot
    from st_hardneg.teachers.search import search_topk

    t0 = time.perf_counter()
    q = np.load(query_file)
    d = np.load(doc_file)
    idx, scores = search_topk(
        q,
        d,
        plan.k,
        backend=backend,
        query_chunk_size=query_chunk_size,
        corpus_chunk_size=corpus_chunk_size,
        device=device,
    )
    inside = (plan.pair_docs >= doc_start) & (plan.pair_docs < doc_start + len(d))
    pair = np.full(len(plan.pair_docs), np.nan, dtype=np.float32)
    pair[inside] = pairwise_dot(q, d, plan.pair_queries[inside], plan.pair_docs[inside] - doc_start)
    write_npz(out_file, candidates=idx.astype(np.int64) + doc_start, scores=scores, pair_scores=pair)
    return {"rows": len(q), "seconds": time.perf_counter() - t0, "peak_rss_mib": peak_rss_mib()}


def merge_anchor_shard(
    plan: AnchorPlan, block_files: Sequence[str | Path], out_file: str | Path, *, depth: int, num_random: int
) -> dict[str, Any]:
    """Merge an anchor shard's per-block top-k into its global top-k (running merge: memory ``anchors x 2k``) and
    write its pool arrays (:func:`~st_hardneg.build.building.finish_anchors`)."""
    t0 = time.perf_counter()
    n = plan.num_queries
    best_i = np.empty((n, 0), dtype=np.int64)
    best_s = np.empty((n, 0), dtype=np.float32)
    pair = np.full(len(plan.pair_docs), np.nan, dtype=np.float32)
    for file in block_files:
        with np.load(file) as z:
            i, s, p = z["candidates"], z["scores"], z["pair_scores"]
        best_i, best_s = sort_candidates(np.concatenate([best_i, i], axis=1), np.concatenate([best_s, s], axis=1))
        best_i, best_s = best_i[:, : plan.k], best_s[:, : plan.k]
        pair = np.where(np.isnan(pair), p, pair)
    missing = np.isnan(pair)
    if missing.any():
        raise RuntimeError(f"{int(missing.sum())} pairs of anchors {plan.start}-{plan.stop - 1} were in no block")
    idx, scores = pad_topk(best_i, best_s, plan.k)
    shard = finish_anchors(plan, TeacherOutput(idx, scores, pair), depth=depth, num_random=num_random)
    write_part(out_file, shard)
    return {"rows": n, "seconds": time.perf_counter() - t0, "peak_rss_mib": peak_rss_mib()}


def score_anchor_shard(
    index: TeacherIndex,
    queries: Sequence[str],
    plan: AnchorPlan,
    out_file: str | Path,
    *,
    depth: int,
    num_random: int,
) -> dict[str, Any]:
    """Rank the corpus for one anchor shard with a bound teacher (``TeacherIndex.run``) and write its pool arrays."""
    t0 = time.perf_counter()
    out = index.run(list(queries), plan.k, plan.pair_queries, plan.pair_docs, show_progress=False)
    write_part(out_file, finish_anchors(plan, out, depth=depth, num_random=num_random))
    return {"rows": plan.num_queries, "seconds": time.perf_counter() - t0, "peak_rss_mib": peak_rss_mib()}


def write_part(path: str | Path, shard: AnchorShard) -> None:
    """An anchor shard's pool arrays, as one ``.npz``."""
    arrays = {name: getattr(shard, name) for name in _PART_ARRAYS}
    write_npz(
        path,
        **arrays,
        range=np.array([shard.start, shard.stop]),
        positives_among_retrieved=np.array(shard.positives_among_retrieved),
    )


def read_part(path: str | Path) -> AnchorShard:
    """The :class:`~st_hardneg.build.building.AnchorShard` written by :func:`write_part`."""
    with np.load(path) as z:
        arrays = {name: z[name] for name in _PART_ARRAYS}
        start, stop = (int(x) for x in z["range"])
        found = int(z["positives_among_retrieved"])
    return AnchorShard(start=start, stop=stop, positives_among_retrieved=found, **arrays)


def peak_rss_mib() -> float:
    """This process's peak resident memory (``ru_maxrss``), in MiB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
