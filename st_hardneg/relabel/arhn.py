"""ARHN: answer-centric relabeling of hard negatives with a judge (the first abstract of the seed 003).

"In the first stage, for each query-passage pair, ARHN prompts the LLM to generate a passage-grounded answer
snippet or to indicate that the passage does not support an answer. In the second stage, ARHN applies an LLM-based
listwise ranking over the candidate set to order passages by direct answerability to the query. Passages ranked
above the original positive are relabeled to additional positives. Among passages ranked below the positive, ARHN
excludes any that contain an answer snippet from the negative set." The three modes are the paper's three
configurations (relabeling only, filtering only, both; both did best on BEIR).

What this implementation decides where the abstract is silent (each said again where it happens):

- The candidate set of an anchor is its top ``candidates`` passages in the teacher's ranking (only those a
  selection is likely to use), plus its labelled positives. In the ranking prompt the candidates keep the
  teacher's order and each positive is put at a position drawn from the seed and the anchor's text, so the judge
  cannot learn that the labelled passage comes first, and the same run asks the same questions.
- With several labelled positives the reference is the lowest-ranked one (:mod:`st_hardneg.relabel.judgments`).
- Stage 1 is asked only when the mode filters (relabeling needs the ranking alone).
- A judge that fails every question of ``stop_after_failed_chunks`` (3) chunks in a row stops the run (a server
  that is down should not be asked, with retries, for hours); the replies so far are cached, so a rerun resumes.
- Every question (stage 1: query and passage; stage 2: query and the ordered passages) is asked at most once per
  judge and prompts: replies are cached on disk (:class:`~st_hardneg.relabel.cache.JudgmentCache`) in chunks of
  ``chunk_size``, so a run stopped midway resumes where it stopped.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from tqdm.auto import tqdm

from st_hardneg.keyed_random import combine, salt, text_keys, uniform
from st_hardneg.relabel.cache import JudgmentCache, default_cache_folder
from st_hardneg.relabel.judges.base import Answer, Judge, Ranking
from st_hardneg.relabel.judgments import A_NOT_ASKED, ANSWER_CODES, RANK_CODES, Judgments, reference_ranks
from st_hardneg.relabel.settings import ARHNSettings
from st_hardneg.relabel.statistics import RelabelStatistics, RequestCounts
from st_hardneg.settings.base import document_options

logger = logging.getLogger(__name__)

__all__ = ["ARHN"]

_POSITION_SALT = salt("st-hardneg ARHN positive position")
#: Anchors prepared at once (memory stays bounded by this many anchors' texts).
_ANCHOR_BLOCK = 1024


@document_options(ARHNSettings)
class ARHN:
    """Relabel and filter a pool's hard negatives with a judge; run it with ``pool.relabel(ARHN(judge, ...))``.

    Args:
        judge: a :class:`~st_hardneg.relabel.Judge` (:class:`~st_hardneg.relabel.TransformersJudge`,
            :class:`~st_hardneg.relabel.OpenAIJudge`, :class:`~st_hardneg.relabel.CrossEncoderJudge`, or your own).
        settings: an :class:`~st_hardneg.relabel.settings.ARHNSettings`; keyword arguments override its fields.
        **kwargs: fields of :class:`~st_hardneg.relabel.settings.ARHNSettings`:

            {options}

    Examples:
        >>> from st_hardneg.relabel import OpenAIJudge
        >>> arhn = ARHN(OpenAIJudge(base_url="http://localhost:8000/v1", model="Qwen/Qwen2.5-7B-Instruct"),
        ...             mode="both", candidates=20)
        >>> arhn.settings.mode, arhn.settings.candidates
        ('both', 20)
    """

    def __init__(self, judge: Judge, settings: ARHNSettings | None = None, **kwargs: Any) -> None:
        if not isinstance(judge, Judge):
            raise TypeError(
                f"judge must be a st_hardneg.relabel Judge (TransformersJudge, OpenAIJudge, CrossEncoderJudge or a "
                f"subclass of Judge), got {type(judge).__name__}"
            )
        self.judge = judge
        self.settings = ARHNSettings.from_kwargs(settings, **kwargs)

    @property
    def cache(self) -> JudgmentCache:
        folder = self.settings.cache_folder
        return JudgmentCache(folder if folder is not None else default_cache_folder())

    def check(self, pool: Any) -> None:
        """Every check that needs no question: the teacher, the depth. Raises ``ValueError``."""
        tc = pool.teacher_candidates(self.settings.teacher)
        depth = tc.depth
        if self.settings.candidates > depth:
            raise ValueError(
                f"candidates={self.settings.candidates} is deeper than the pool (depth {depth}); judge at most "
                f"{depth} candidates per anchor, or build a deeper pool"
            )

    def config(self, teacher: str | None = None) -> dict[str, Any]:
        """What pools, ``mining.json`` and cards record: method, settings, judge (with its prompts), teacher."""
        settings = self.settings.to_dict()
        settings.pop("cache_folder")  # where replies are cached does not change them
        return {
            "method": "ARHN",
            "settings": settings,
            "judge": self.judge.config(),
            "teacher": teacher or self.settings.teacher,
        }

    def run(self, pool: Any, *, show_progress: bool = True) -> Judgments:
        """Judge the pool's top candidates; return the :class:`~st_hardneg.relabel.Judgments` (the pool is not
        changed: :meth:`CandidatePool.relabel <st_hardneg.pool.CandidatePool.relabel>` stores them)."""
        self.check(pool)
        self.judge.check()
        s = self.settings
        concurrency = getattr(getattr(self.judge, "settings", None), "concurrency", None)
        if isinstance(concurrency, int) and concurrency > s.chunk_size:
            logger.warning(
                "chunk_size=%d caps the judge's concurrency=%d: at most %d questions are in flight; raise chunk_size",
                s.chunk_size, concurrency, s.chunk_size,
            )  # fmt: skip
        tc = pool.teacher_candidates(s.teacher)
        cache = self.cache
        fingerprint = self.judge.fingerprint()
        stats = RelabelStatistics(mode=s.mode)
        n_queries = len(pool.queries)
        n_pairs = sum(
            int((np.asarray(tc.candidates[i : i + _ANCHOR_BLOCK, : s.candidates]) >= 0).sum())
            for i in range(0, n_queries, _ANCHOR_BLOCK)
        )
        total = n_queries + (n_pairs if s.asks_answers else 0)
        parts: list[dict[str, np.ndarray | list]] = []
        bar = tqdm(total=total, desc=f"Judging ({self.judge.name})", unit="question", disable=not show_progress)
        failed_chunks = 0
        try:
            for start in range(0, n_queries, _ANCHOR_BLOCK):
                block = np.arange(start, min(start + _ANCHOR_BLOCK, n_queries))
                top = np.asarray(tc.candidates[block, : s.candidates]).astype(np.int64)
                part, failed_chunks = self._judge_block(pool, block, top, cache, fingerprint, stats, bar, failed_chunks)
                parts.append(part)
        finally:
            bar.close()
            cache.close()
        judgments = _assemble(parts, s.mode, self.config(tc.name))
        stats.anchors = n_queries
        stats.candidates = n_pairs
        for mode in judgments.modes:
            stats.by_mode[mode] = judgments.counts(mode)
        chosen = stats.by_mode[s.mode]
        stats.relabeled, stats.filtered = chosen["relabeled"], chosen["filtered"]
        stats.unparseable, stats.failed = chosen["unparseable"], chosen["failed"]
        judgments.statistics = stats
        logger.info(
            "ARHN (%s) with %s: %d of %d candidates relabeled, %d filtered, %d unparseable, %d failed",
            s.mode,
            self.judge.name,
            stats.relabeled,
            n_pairs,
            stats.filtered,
            stats.unparseable,
            stats.failed,
        )
        return judgments

    # ------------------------------------------------------------------ one block of anchors
    def _judge_block(
        self,
        pool: Any,
        block: np.ndarray,
        top: np.ndarray,
        cache: JudgmentCache,
        fingerprint: str,
        stats: RelabelStatistics,
        bar: Any,
        failed_chunks: int,
    ) -> tuple[dict[str, Any], int]:
        s = self.settings
        queries = pc.take(pool.queries, pa.array(block)).to_pylist()
        keys = text_keys(queries)
        lo, hi = pool.positives_indptr[block], pool.positives_indptr[block + 1]
        positives = [np.asarray(pool.positives_indices[a:b]).astype(np.int64) for a, b in zip(lo, hi)]
        docs = np.unique(np.concatenate([top[top >= 0], *positives]) if len(block) else np.zeros(0, np.int64))
        texts = dict(zip(docs.tolist(), pc.take(pool.corpus, pa.array(docs)).to_pylist())) if len(docs) else {}

        # Stage 2 requests: candidates in the teacher's order, positives at keyed positions.
        lists, where_pos = [], []
        for i in range(len(block)):
            cand = [int(d) for d in top[i] if d >= 0]
            order, at = _place_positives(cand, positives[i].tolist(), keys[i], s.seed)
            lists.append(order)
            where_pos.append(at)
        rank_keys = [cache.key(fingerprint, "rank", q, [texts[d] for d in ds]) for q, ds in zip(queries, lists)]
        rankings, failed_chunks = self._ask(
            "rank",
            rank_keys,
            lambda idx: self.judge.rank(
                [queries[i] for i in idx], [[texts[d] for d in lists[i]] for i in idx], [where_pos[i] for i in idx]
            ),
            Ranking,
            cache,
            stats.rankings,
            bar,
            failed_chunks,
        )

        # Stage 1 requests (only when the mode filters): every (anchor, candidate) once.
        pair_i = [i for i in range(len(block)) for d in top[i] if d >= 0]
        pair_d = [int(d) for i in range(len(block)) for d in top[i] if d >= 0]
        answers: list[Answer | None] = [None] * len(pair_i)
        if s.asks_answers:
            answer_keys = [cache.key(fingerprint, "answer", queries[i], texts[d]) for i, d in zip(pair_i, pair_d)]
            answers, failed_chunks = self._ask(
                "answer",
                answer_keys,
                lambda idx: self.judge.answer([queries[pair_i[j]] for j in idx], [texts[pair_d[j]] for j in idx]),
                Answer,
                cache,
                stats.answers,
                bar,
                failed_chunks,
            )

        # One row per (anchor, passage): candidates with their stage-1 reply, then positives.
        answer_of = {(pair_i[j], pair_d[j]): a for j, a in enumerate(answers)}
        rows: dict[str, list] = {k: [] for k in ("query", "document", "is_positive", "position", "rank")}
        rows.update(rank_status=[], answer=[], snippet=[])
        for i, q in enumerate(block):
            ranking = rankings[i]
            ranks = ranking.ranks(len(lists[i])) if ranking.status == "ranked" else [-1] * len(lists[i])
            status_of = {"ranked": None, "unparseable": "unparseable", "failed": "failed"}[ranking.status]
            pos_set = set(where_pos[i])
            teacher_position = {int(d): p for p, d in enumerate(top[i]) if d >= 0}
            for slot, d in enumerate(lists[i]):
                is_pos = slot in pos_set
                status = status_of or ("ranked" if ranks[slot] >= 0 else "unranked")
                a = None if is_pos else answer_of.get((i, d))
                rows["query"].append(int(q))
                rows["document"].append(d)
                rows["is_positive"].append(is_pos)
                rows["position"].append(-1 if is_pos else teacher_position[d])
                rows["rank"].append(ranks[slot])
                rows["rank_status"].append(RANK_CODES.index(status))
                rows["answer"].append(A_NOT_ASKED if a is None else ANSWER_CODES.index(a.status))
                rows["snippet"].append(a.snippet if a is not None else None)
        return rows, failed_chunks

    def _ask(self, stage, keys, ask, reply_type, cache, counts: RequestCounts, bar, failed_chunks):
        """Replies for ``keys``: from the cache, else from the judge in chunks (each chunk cached at once)."""
        counts.total += len(keys)
        stored = cache.get_many(set(keys))
        replies: list[Any] = [None] * len(keys)
        todo = []
        for j, key in enumerate(keys):
            if key in stored:
                replies[j] = reply_type.from_dict(stored[key])
            else:
                todo.append(j)
        counts.cached += len(keys) - len(todo)
        bar.update(len(keys) - len(todo))
        size = self.settings.chunk_size
        for start in range(0, len(todo), size):
            chunk = todo[start : start + size]
            try:
                got = list(ask(chunk))
                if len(got) != len(chunk):
                    raise RuntimeError(f"the judge returned {len(got)} replies for {len(chunk)} questions")
            except Exception as err:  # noqa: BLE001 - a judge's bug or outage fails these questions, not the run
                logger.warning("The judge raised on %d %s questions: %s", len(chunk), stage, err)
                got = [reply_type("failed", error=f"{type(err).__name__}: {err}") for _ in chunk]
            new = {}
            for j, reply in zip(chunk, got):
                replies[j] = reply
                if reply.status != "failed":
                    new[keys[j]] = reply.to_dict()
            cache.put_many(new)
            n_failed = sum(r.status == "failed" for r in got)
            counts.asked += len(chunk)
            counts.failed += n_failed
            counts.unparseable += sum(r.status == "unparseable" for r in got)
            bar.update(len(chunk))
            failed_chunks = failed_chunks + 1 if n_failed == len(chunk) else 0
            if n_failed:
                reason = next(r.error for r in got if r.status == "failed")
                logger.warning("%d of %d %s questions failed (%s)", n_failed, len(chunk), stage, reason)
            limit = self.settings.stop_after_failed_chunks
            if limit is not None and failed_chunks >= limit:
                raise RuntimeError(
                    f"the judge {self.judge.name!r} failed every question of {failed_chunks} chunks in a row (last: "
                    f"{reason}); the replies so far are cached: fix the judge and run again to resume"
                )
        return replies, failed_chunks


def _place_positives(candidates: list[int], positives: list[int], key: np.uint64, seed: int):
    """The ranking list: candidates in order, each positive inserted at a keyed position. Returns the list and the
    positives' slots."""
    order = list(candidates)
    if positives:
        u = uniform(combine(np.uint64(key), np.uint64(seed), _POSITION_SALT, np.arange(len(positives))))
        for p, x in zip(positives, u):
            order.insert(int(x * (len(order) + 1)), p)
    pos = set(positives)
    return order, [slot for slot, d in enumerate(order) if d in pos]


def _assemble(parts: list[dict[str, list]], mode: str, config: dict[str, Any]) -> Judgments:
    def column(name, dtype):
        values = [v for part in parts for v in part[name]]
        return np.asarray(values, dtype=dtype)

    query = column("query", np.int32)
    is_positive = column("is_positive", bool)
    rank = column("rank", np.int16)
    rank_status = column("rank_status", np.int8)
    snippet = pa.array([v for part in parts for v in part["snippet"]], type=pa.large_string())
    return Judgments(
        query=query,
        document=column("document", np.int32),
        is_positive=is_positive,
        position=column("position", np.int16),
        rank=rank,
        positive_rank=reference_ranks(query, is_positive, rank, rank_status),
        rank_status=rank_status,
        answer=column("answer", np.int8),
        snippet=snippet,
        mode=mode,
        config=config,
    )
