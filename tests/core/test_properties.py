"""Property-based tests of ``CandidatePool.select`` on random hand-made pools (hypothesis).

Every expected value comes from a plain-Python reference written here from the definitions (NV-Retriever section
3.1, Eq. 1 and the sign-safe Eq. 2; ``score <= threshold`` survives; ``min_score`` removes scores below it; the
samplers' windows; filling short rows from the anchor's reserve within the bound), computed in exact rational
arithmetic on the stored float32 scores, never by calling the code under test.

A generated pool has 1-6 anchors over a corpus of 6-30 documents; each anchor has 1-3 positives (one row per
(anchor, positive), rows in random order), a ranked candidate list of distinct non-positive documents padded with
``-1`` / ``-inf`` to the depth (1-12), and a random fill reserve of other documents. Scores come from one of three
scales per pool: a dyadic grid on [-1, 2] (exact arithmetic, many ties with thresholds), cosine-like floats in
[-1, 1], or dot-product / BM25-like floats in [-30, 60].
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np
import pyarrow as pa
import pytest

from st_hardneg import CandidatePool, NaiveTopK, TopKAbs, TopKMarginPos, TopKPercPos, TopKShifted
from st_hardneg.pool import PoolStatistics, TeacherCandidates
from st_hardneg.settings import PoolSettings

pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, Phase, assume, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

NEG = -np.inf
ALL_FORMATS = ("n-tuple", "triplet", "labeled-list", "labeled-pair")
ROW_FORMATS = ("n-tuple", "triplet", "labeled-list")  # formats that keep one output entry per input row
SAMPLINGS = ("top", "sampled", "top1_sampled")
TEACHER = "hand"

PROPERTY = settings(
    deadline=None,
    max_examples=150,
    database=None,  # no .hypothesis folder in the repository; failures print their reproduction blob
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
)
# For the property that fails while the positive_score="min" bug stands: shrinking its failure takes about a minute;
# the failure message names the row and both scores; the minimal case is
# test_min_positive_score_mode_still_reports_each_rows_own_positive_score.
UNSHRUNK = settings(PROPERTY, phases=(Phase.explicit, Phase.reuse, Phase.generate))

# ---------------------------------------------------------------------------------------------- generated pools

SCALES = {
    # multiples of 1/32: float32-exact and closed under the methods' arithmetic, so ties with thresholds are exact
    "grid": st.integers(-32, 64).map(lambda i: i / 32),
    "cosine": st.floats(-1, 1, width=32),
    "dot": st.floats(-30, 60, width=32),
}


def f32(x: float) -> float:
    return float(np.float32(x))


@dataclass(frozen=True)
class Spec:
    """A candidate pool as plain Python: what the pool is built from and what the reference reads."""

    scale: str
    n_docs: int
    depth: int
    reserve_width: int
    positives: tuple[tuple[int, ...], ...]  # per anchor
    positive_scores: tuple[tuple[float, ...], ...]  # per anchor, aligned with positives (float32 values)
    candidates: tuple[tuple[tuple[int, float], ...], ...]  # per anchor: (doc, score), ranked, unpadded
    reserve: tuple[tuple[tuple[int, float], ...], ...]  # per anchor: (doc, score) in reserve order, unpadded
    rows: tuple[tuple[int, int], ...]  # (anchor, index into the anchor's positives), in dataset order

    def row_doc(self, row: tuple[int, int]) -> int:
        q, j = row
        return self.positives[q][j]


def up_to(n: int) -> st.SearchStrategy[int]:
    """0..n, n half of the time."""
    return st.just(n) | st.integers(0, n)


@st.composite
def specs(draw: Any) -> Spec:
    scale = draw(st.sampled_from(sorted(SCALES)))
    score = SCALES[scale].map(f32)
    n_docs = draw(st.integers(6, 30))
    n_queries = draw(st.integers(1, 6))
    depth = draw(st.integers(1, 12))
    reserve_width = draw(st.integers(0, 4))
    positives, positive_scores, candidates, reserve = [], [], [], []
    for _ in range(n_queries):
        order = draw(st.permutations(range(n_docs)))
        n_pos = draw(st.integers(1, 3))
        n_cand = draw(up_to(min(depth, n_docs - n_pos)))  # often the full depth, as with a large corpus
        n_res = draw(up_to(min(reserve_width, n_docs - n_pos - n_cand)))
        pos_docs = order[:n_pos]
        cand_docs = order[n_pos : n_pos + n_cand]
        res_docs = order[n_pos + n_cand : n_pos + n_cand + n_res]
        cand_scores = sorted(draw(st.lists(score, min_size=n_cand, max_size=n_cand)), reverse=True)
        res_scores = draw(st.lists(score, min_size=n_res, max_size=n_res))
        positives.append(tuple(pos_docs))
        positive_scores.append(tuple(draw(st.lists(score, min_size=n_pos, max_size=n_pos))))
        candidates.append(tuple(zip(cand_docs, cand_scores)))
        reserve.append(tuple(zip(res_docs, res_scores)))
    rows = [(q, j) for q in range(n_queries) for j in range(len(positives[q]))]
    rows = draw(st.permutations(rows))
    return Spec(
        scale=scale,
        n_docs=n_docs,
        depth=depth,
        reserve_width=reserve_width,
        positives=tuple(positives),
        positive_scores=tuple(positive_scores),
        candidates=tuple(candidates),
        reserve=tuple(reserve),
        rows=tuple(rows),
    )


def build_pool(spec: Spec) -> CandidatePool:
    nq, depth, width = len(spec.positives), spec.depth, spec.reserve_width
    cand = np.full((nq, depth), -1, dtype=np.int32)
    scores = np.full((nq, depth), NEG, dtype=np.float32)
    rand = np.full((nq, width), -1, dtype=np.int32)
    rand_scores = np.full((nq, width), NEG, dtype=np.float32)
    for q in range(nq):
        for i, (doc, s) in enumerate(spec.candidates[q]):
            cand[q, i], scores[q, i] = doc, s
        for i, (doc, s) in enumerate(spec.reserve[q]):
            rand[q, i], rand_scores[q, i] = doc, s
    tc = TeacherCandidates(
        name=TEACHER,
        config={"type": "hand"},
        candidates=cand,
        scores=scores,
        positive_scores=np.array([spec.positive_scores[q][j] for q, j in spec.rows], dtype=np.float32),
        random_candidates=rand,
        random_scores=rand_scores,
        min_positive_scores=np.array([min(s) for s in spec.positive_scores], dtype=np.float32),
    )
    lengths = [len(p) for p in spec.positives]
    return CandidatePool(
        queries=pa.array([f"q{q}" for q in range(nq)]),
        corpus=pa.array([f"d{d}" for d in range(spec.n_docs)]),
        row_query=np.array([q for q, _ in spec.rows], dtype=np.int64),
        row_positive=np.array([spec.row_doc(r) for r in spec.rows], dtype=np.int64),
        positives_indptr=np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64),
        positives_indices=np.array([d for p in spec.positives for d in p], dtype=np.int64),
        teachers={TEACHER: tc},
        config={
            "settings": PoolSettings(
                depth=depth, num_random=width, anchor_column="query", positive_column="answer"
            ).to_dict()
        },
        statistics=PoolStatistics(
            rows=len(spec.rows),
            queries=nq,
            corpus_size=spec.n_docs,
            queries_with_several_positives=sum(n > 1 for n in lengths),
            added_positives=0,
            duplicate_corpus_texts=0,
        ),
    )


@st.composite
def selection_kwargs(draw: Any, spec: Spec, formats=ALL_FORMATS, samplings=SAMPLINGS) -> dict[str, Any]:
    """Random valid ``select`` keyword arguments for a pool of this spec."""
    score = SCALES[spec.scale].map(f32)
    kind = draw(st.sampled_from(["percpos", "marginpos", "abs", "shifted", "naive"]))
    reachable = spec.depth
    if kind == "naive":
        method = NaiveTopK()
    elif kind == "shifted":
        n = draw(st.integers(0, spec.depth - 1))
        method, reachable = TopKShifted(n), spec.depth - n
    elif kind == "abs":
        method = TopKAbs(draw(score))
    elif kind == "marginpos":
        # grid margins tie exactly; float margins stay well above float64 rounding of pos - margin
        margin = draw(st.integers(0, 64).map(lambda i: i / 32) | st.floats(1e-6, 5))
        method = TopKMarginPos(margin)
    else:
        perc = draw(st.integers(1, 32).map(lambda i: i / 32) | st.floats(1e-3, 1))
        method = TopKPercPos(perc)
    k = draw(st.integers(1, min(reachable, 3)) | st.integers(1, reachable))
    sampling = draw(st.sampled_from(samplings))
    output_format = draw(st.sampled_from(formats))
    on_short = draw(st.sampled_from(("fill", "drop") if output_format == "n-tuple" else ("fill", "keep", "drop")))
    # min_score from the pool's own (float32-exact) score scale: see
    # test_min_score_compares_the_stored_score_with_the_given_bound_exactly for why.
    min_score = draw(st.none() | score)
    if isinstance(method, TopKAbs) and min_score is not None and min_score > method.max_score:
        min_score = method.max_score  # the settings refuse min_score above max_score; keep the tie instead
    return {
        "method": method,
        "num_negatives": k,
        "sampling": sampling,
        "sample_from": draw(st.integers(k, k + spec.depth)),
        "weighting": draw(st.sampled_from(("softmax", "uniform"))),
        "temperature": draw(st.sampled_from((0.05, 0.5, 1.0, 2.0)) | st.floats(0.01, 100)),
        "output_format": output_format,
        "output_scores": output_format != "labeled-pair",  # labeled-pair keeps its label column to tell pos/neg
        "on_short": on_short,
        "positive_score": draw(st.sampled_from(("row", "min"))),
        "min_score": min_score,
        "seed": draw(st.integers(0, 2**32 - 1)),
    }


@st.composite
def cases(draw: Any, formats=ALL_FORMATS, samplings=SAMPLINGS) -> tuple[Spec, dict[str, Any]]:
    spec = draw(specs())
    return spec, draw(selection_kwargs(spec, formats, samplings))


def select(pool: CandidatePool, kwargs: dict[str, Any], **extra: Any):
    return pool.select(**kwargs, **extra, show_progress=False, return_statistics=True)


# ---------------------------------------------------------------------------------------------- the reference

_ULPS = Fraction(1, 2**48)  # a few float64 rounding steps, relative


def exact_bound(method: Any, pos: float) -> Fraction | None:
    """The paper's maximum negative score for a positive score ``pos``, exactly; None when the method has none."""
    p = Fraction(pos)
    if isinstance(method, TopKAbs):
        return Fraction(method.max_score)
    if isinstance(method, TopKMarginPos):  # Eq. 1: pos - margin
        return p - Fraction(method.margin)
    if isinstance(method, TopKPercPos):  # Eq. 2: pos * percentage; sign-safe pos - |pos| * (1 - percentage) below 0
        perc = Fraction(method.percentage)
        return p * perc if p >= 0 else p - abs(p) * (1 - perc)
    return None


def rounding(method: Any, pos: float) -> Fraction:
    """How far the package's float64 bound may lie from the exact one (``pos - margin`` and
    ``pos - |pos| * (1 - percentage)`` each round a few times; ``max_score`` is taken as it is)."""
    if isinstance(method, TopKMarginPos):
        return _ULPS * (abs(Fraction(pos)) + Fraction(method.margin))
    if isinstance(method, TopKPercPos):
        return _ULPS * abs(Fraction(pos))
    return Fraction(0)


def obeys(score: float, bound: Fraction | None, tolerance: Fraction) -> bool | None:
    """Whether ``score <= bound``; None when the score is within float64 rounding of the bound but not on it (the
    package computes the bound in float64, so either answer is right there)."""
    if bound is None:
        return True
    s = Fraction(score)
    if s != bound and abs(s - bound) <= tolerance:
        return None
    return s <= bound


@dataclass
class RowRef:
    """The reference's view of one row."""

    query: int
    positive: int
    positive_score: float
    bound: Fraction | None
    survivors: list[tuple[int, float, int]]  # (doc, score, rank) in rank order
    fill: list[tuple[int, float]]  # reserve entries within the bound and min_score, in reserve order
    considered: int = 0
    removed_by_method: int = 0
    removed_below_min_score: int = 0
    undecidable: bool = False


def reference_rows(spec: Spec, kw: dict[str, Any]) -> list[RowRef]:
    method, min_score = kw["method"], kw["min_score"]
    skip = method.n if isinstance(method, TopKShifted) else 0
    out = []
    for q, j in spec.rows:
        own = spec.positive_scores[q][j]
        pos = own if kw["positive_score"] == "row" else min(spec.positive_scores[q])
        bound = exact_bound(method, pos)
        tolerance = rounding(method, pos)
        ref = RowRef(q, spec.row_doc((q, j)), own, bound, [], [])
        for rank, (doc, s) in enumerate(spec.candidates[q]):
            ref.considered += 1
            ok = rank >= skip and obeys(s, bound, tolerance)
            ref.undecidable |= ok is None
            if not ok:
                ref.removed_by_method += 1
            elif min_score is not None and s < min_score:
                ref.removed_below_min_score += 1
            else:
                ref.survivors.append((doc, s, rank))
        for doc, s in spec.reserve[q]:
            ok = obeys(s, bound, tolerance)
            ref.undecidable |= ok is None
            if ok and (min_score is None or s >= min_score):
                ref.fill.append((doc, s))
        out.append(ref)
    return out


def decidable(refs: list[RowRef]) -> list[RowRef]:
    assume(not any(r.undecidable for r in refs))
    return refs


def expected_counts(ref: RowRef, kw: dict[str, Any]) -> tuple[int, int, bool]:
    """(negatives from the candidates, fill negatives, dropped) for any sampling strategy."""
    k = kw["num_negatives"]
    have = min(k, len(ref.survivors))  # every strategy draws min(k, survivors): sample_from >= num_negatives
    filled = min(k - have, len(ref.fill)) if kw["on_short"] == "fill" else 0
    total = have + filled
    short = total < k
    dropped = total == 0 or (short and (kw["output_format"] == "n-tuple" or kw["on_short"] == "drop"))
    return have, filled, dropped


def expected_top(ref: RowRef, kw: dict[str, Any]) -> list[tuple[int, float]] | None:
    """The row's negatives with ``sampling="top"`` (None when the row is dropped)."""
    have, filled, dropped = expected_counts(ref, kw)
    if dropped:
        return None
    return [(d, s) for d, s, _ in ref.survivors[:have]] + ref.fill[:filled]


# ---------------------------------------------------------------------------------------------- reading the output


def doc_id(text: str) -> int:
    assert text[0] == "d", text
    return int(text[1:])


def output_rows(result: Any) -> list[tuple[int, int, float | None, list[tuple[int, float | None]]]]:
    """``[(anchor, positive, positive score, [(negative, score), ...])]`` per output row, for the row formats."""
    ds, fmt = result.dataset, result.settings.output_format
    scored = "scores" in ds.column_names
    rows: list[tuple[int, int, float | None, list[tuple[int, float | None]]]] = []
    for ex in ds:
        q = int(ex["query"][1:])
        scores = ex["scores"] if scored else None
        if fmt == "n-tuple":
            docs = [doc_id(ex["answer"])] + [
                doc_id(ex[f"negative_{i}"]) for i in range(1, result.settings.num_negatives + 1)
            ]
        elif fmt == "labeled-list":
            docs = [doc_id(t) for t in ex["answer"]]
            if not scored:
                assert ex["labels"] == [1] + [0] * (len(docs) - 1)
        else:  # triplet: one output row per negative, grouped below
            docs = [doc_id(ex["answer"]), doc_id(ex["negative"])]
        scores = scores if scores is not None else [None] * len(docs)
        assert len(scores) == len(docs)
        negs = list(zip(docs[1:], scores[1:]))
        if fmt == "triplet" and rows and rows[-1][:2] == (q, docs[0]):
            assert rows[-1][2] == scores[0]
            rows[-1][3].extend(negs)
        else:
            rows.append((q, docs[0], scores[0], negs))
    return rows


def by_row(spec: Spec, result: Any) -> dict[tuple[int, int], list[tuple[int, float | None]]]:
    """Output negatives keyed by (anchor, positive doc); asserts each input row appears at most once."""
    out: dict[tuple[int, int], list[tuple[int, float | None]]] = {}
    for q, p, _, negs in output_rows(result):
        assert (q, p) not in out, f"row ({q}, {p}) written twice (or not contiguous in a triplet output)"
        out[(q, p)] = negs
    return out


def labeled_pairs(result: Any) -> list[tuple[int, int, int]]:
    ds = result.dataset
    return [(int(q[1:]), doc_id(d), label) for q, d, label in zip(ds["query"], ds["answer"], ds["label"])]


def pool_score(spec: Spec, q: int, doc: int) -> tuple[str, int, float]:
    """Where ``doc`` is in anchor ``q``'s pool: ("candidate", rank, score) or ("reserve", position, score)."""
    for rank, (d, s) in enumerate(spec.candidates[q]):
        if d == doc:
            return "candidate", rank, s
    for i, (d, s) in enumerate(spec.reserve[q]):
        if d == doc:
            return "reserve", i, s
    raise AssertionError(f"d{doc} is neither a candidate nor in the reserve of q{q}")


# ---------------------------------------------------------------------------------------------- 1. positives


@PROPERTY
@given(cases())
def test_no_positive_of_the_anchor_is_ever_a_negative(case):
    spec, kw = case
    result = select(build_pool(spec), kw)
    if kw["output_format"] == "labeled-pair":
        for q, doc, label in labeled_pairs(result):
            if label == 1:
                assert doc in spec.positives[q]
            else:
                assert doc not in spec.positives[q], f"positive d{doc} of q{q} labeled as a negative"
        return
    for q, p, _, negs in output_rows(result):
        assert p in spec.positives[q]
        for doc, _ in negs:
            assert doc not in spec.positives[q], f"positive d{doc} of q{q} returned as a negative of row (q{q}, d{p})"


# ---------------------------------------------------------------------------------------------- 2. bounds


@PROPERTY
@given(cases())
def test_every_negative_obeys_the_methods_bound_and_min_score(case):
    spec, kw = case
    refs = decidable(reference_rows(spec, kw))
    method, min_score = kw["method"], kw["min_score"]
    skip = method.n if isinstance(method, TopKShifted) else 0
    result = select(build_pool(spec), kw)
    bounds = {(r.query, r.positive): r.bound for r in refs}

    def check(q: int, doc: int, bound: Fraction | None, reported: float | None) -> None:
        where, pos, s = pool_score(spec, q, doc)
        if reported is not None:
            assert reported == s, f"d{doc} of q{q} reported with score {reported}, the teacher's is {s}"
        if where == "candidate":
            assert pos >= skip, f"{method} returned d{doc}, ranked {pos}"
        if bound is not None:
            assert Fraction(s) <= bound, f"{method}: d{doc} of q{q} scores {s} above the bound {float(bound)}"
        if min_score is not None:
            assert s >= min_score, f"d{doc} of q{q} scores {s} below min_score={min_score}"

    if kw["output_format"] == "labeled-pair":
        pairs = labeled_pairs(result)
        kept = {(q, d) for q, d, label in pairs if label == 1}
        for q, doc, label in pairs:
            if label == 0:
                # a negative shared by several rows of the anchor is written once: it obeys some kept row's bound
                row_bounds = [bounds[(q, p)] for qq, p in kept if qq == q]
                assert row_bounds
                loosest = None if None in row_bounds else max(row_bounds)
                check(q, doc, loosest, None)
        return
    for q, p, _, negs in output_rows(result):
        for doc, s in negs:
            check(q, doc, bounds[(q, p)], s)


@UNSHRUNK
@given(cases(formats=ROW_FORMATS))
def test_reported_scores_are_the_teachers_scores_of_each_pair(case):
    """``output_scores``: [positive score, negative scores...] are the teacher's scores of (anchor, document), for
    distillation; ``positive_score="min"`` changes what the methods compare with, not the reported scores."""
    spec, kw = case
    result = select(build_pool(spec), kw)
    for q, p, pos_score, negs in output_rows(result):
        own = spec.positive_scores[q][spec.positives[q].index(p)]
        assert pos_score == own, f"row (q{q}, d{p}) reports positive score {pos_score}, the teacher's is {own}"
        for doc, s in negs:
            assert s == pool_score(spec, q, doc)[2]


# ---------------------------------------------------------------------------------------------- 3. counts


@PROPERTY
@given(cases(formats=ROW_FORMATS))
def test_row_sizes_and_statistics_add_up(case):
    spec, kw = case
    refs = decidable(reference_rows(spec, kw))
    k = kw["num_negatives"]
    result = select(build_pool(spec), kw)
    st_ = result.statistics
    rows = output_rows(result)

    for q, p, _, negs in rows:
        docs = [d for d, _ in negs]
        assert 1 <= len(docs) <= k
        assert len(set(docs)) == len(docs), f"row (q{q}, d{p}) repeats a negative: {docs}"
        if kw["output_format"] == "n-tuple":
            assert len(docs) == k

    counts = [expected_counts(r, kw) for r in refs]
    kept = [(r.query, r.positive) for r, (_, _, dropped) in zip(refs, counts) if not dropped]
    assert [(q, p) for q, p, _, _ in rows] == kept  # the kept rows, in dataset order
    for (q, p, _, negs), (have, filled, _) in zip(rows, [c for c in counts if not c[2]]):
        assert len(negs) == have + filled, f"row (q{q}, d{p})"

    n_short = sum(have < k for have, _, _ in counts)
    n_filled = sum(filled for _, filled, _ in counts)
    n_dropped = sum(dropped for _, _, dropped in counts)
    n_out_negs = sum(len(negs) for *_, negs in rows)
    assert st_.rows_in == len(spec.rows)
    assert st_.rows_out + st_.rows_dropped == st_.rows_in
    assert (st_.rows_out, st_.rows_dropped) == (len(kept), n_dropped)
    assert st_.candidates_considered == sum(r.considered for r in refs)
    assert st_.removed_by_method == sum(r.removed_by_method for r in refs)
    assert st_.removed_below_min_score == sum(r.removed_below_min_score for r in refs)
    assert st_.survivors == sum(len(r.survivors) for r in refs)
    assert st_.candidates_considered == st_.removed_by_method + st_.removed_below_min_score + st_.survivors
    assert st_.negatives_selected == sum(have for have, _, _ in counts)
    assert st_.not_selected == st_.survivors - st_.negatives_selected
    assert st_.rows_short == n_short
    assert st_.negatives_filled == n_filled
    assert st_.rows_filled == sum(filled > 0 for _, filled, _ in counts)
    assert st_.rows_kept_short == sum(have + filled < k and not dropped for have, filled, dropped in counts)
    assert st_.examples_out == len(result.dataset)
    assert st_.positive_scores.count == st_.rows_out
    assert st_.negative_scores.count == n_out_negs == st_.margins.count


# ---------------------------------------------------------------------------------------------- 4. samplers


@PROPERTY
@given(cases(formats=ROW_FORMATS))
def test_samplers_draw_only_from_their_window(case):
    spec, kw = case
    refs = decidable(reference_rows(spec, kw))
    k, sampling, window = kw["num_negatives"], kw["sampling"], kw["sample_from"]
    result = select(build_pool(spec), kw)
    out = by_row(spec, result)
    for ref in refs:
        have, filled, dropped = expected_counts(ref, kw)
        negs = out.get((ref.query, ref.positive))
        assert (negs is None) == dropped
        if negs is None:
            continue
        docs = [d for d, _ in negs]
        survivors = [d for d, _, _ in ref.survivors]
        picked, fills = docs[:have], docs[have:]
        # hardest first: the picks in rank order, then the fill documents in reserve order
        assert picked == [d for d in survivors if d in picked], f"picks {picked} not in rank order of {survivors}"
        assert fills == [d for d, _ in ref.fill[:filled]]
        if sampling == "top":
            assert picked == survivors[:k]
        elif sampling == "sampled":
            assert set(picked) <= set(survivors[:window]), f"{picked} outside the top {window} of {survivors}"
        elif picked:
            assert picked[0] == survivors[0], f"top1_sampled lost the first survivor {survivors[0]}: {picked}"
            assert set(picked[1:]) <= set(survivors[1:window])


# ---------------------------------------------------------------------------------------------- 5. reference


@PROPERTY
@given(cases(samplings=("top",)))
def test_top_selection_equals_the_brute_force_reference(case):
    spec, kw = case
    refs = decidable(reference_rows(spec, kw))
    result = select(build_pool(spec), kw)
    expected = [(r, expected_top(r, kw)) for r in refs]
    if kw["output_format"] == "labeled-pair":
        want, seen = [], set()
        for r, negs in expected:
            if negs is None:
                continue
            for item in [(r.query, r.positive, 1)] + [(r.query, d, 0) for d, _ in negs]:
                if item not in seen:
                    seen.add(item)
                    want.append(item)
        assert labeled_pairs(result) == want
        return
    got = [(q, p, negs) for q, p, _, negs in output_rows(result)]
    want = [(r.query, r.positive, negs) for r, negs in expected if negs is not None]
    assert got == want


# ---------------------------------------------------------------------------------------------- 6. determinism


@PROPERTY
@given(cases(), st.data())
def test_same_seed_same_dataset_and_rows_do_not_depend_on_each_other(case, data):
    spec, kw = case
    pool = build_pool(spec)
    first = select(pool, kw)
    again = select(build_pool(spec), kw)
    one_by_one = select(pool, kw, chunk_size=1)
    assert first.dataset.to_dict() == again.dataset.to_dict()
    assert first.dataset.to_dict() == one_by_one.dataset.to_dict()
    if kw["output_format"] == "labeled-pair":
        return
    subset = data.draw(
        st.lists(st.sampled_from(range(len(spec.rows))), min_size=1, max_size=len(spec.rows), unique=True),
        label="subset",
    )
    full_rows = by_row(spec, first)
    sub_keys = [(q, spec.row_doc((q, j))) for q, j in (spec.rows[i] for i in subset)]
    # from the pool already selected from (row keys cached and sliced) and from a fresh one (keys computed anew)
    for source in (pool, build_pool(spec)):
        part_rows = by_row(spec, select(source.take_rows(np.array(subset)), kw))
        assert set(part_rows) <= set(sub_keys)
        for key in sub_keys:
            assert part_rows.get(key) == full_rows.get(key), f"row {key}"
        assert list(part_rows) == [key for key in sub_keys if key in part_rows]  # the subset's order is kept


# ---------------------------------------------------------------------------------------------- found by the above


def one_anchor(candidates, positive_scores=(1.0,)) -> Spec:
    """A spec with one anchor (positives d0, d1, ...), ranked candidates ``[(doc, score)]`` and no reserve."""
    positives = tuple(range(len(positive_scores)))
    return Spec(
        scale="grid",
        n_docs=10,
        depth=len(candidates),
        reserve_width=0,
        positives=(positives,),
        positive_scores=(tuple(f32(s) for s in positive_scores),),
        candidates=(tuple((d, f32(s)) for d, s in candidates),),
        reserve=((),),
        rows=tuple((0, j) for j in positives),
    )


def test_min_positive_score_mode_still_reports_each_rows_own_positive_score():
    # q0 has positives d0 (.875) and d1 (.5). positive_score="min" makes the methods compare with .5 for both rows,
    # but the scores written for distillation must stay the teacher's: .875 for (q0, d0), .5 for (q0, d1).
    # select_negatives writes the comparison score (the anchor's minimum) as the positive's score instead.
    spec = one_anchor([(2, 0.25), (3, 0.125)], positive_scores=(0.875, 0.5))
    result = select(
        build_pool(spec),
        {
            "method": TopKPercPos(0.75),
            "num_negatives": 2,
            "output_format": "n-tuple",
            "positive_score": "min",
            "output_scores": True,
        },
    )
    assert [scores[0] for scores in result.dataset["scores"]] == [0.875, 0.5]
    assert result.statistics.positive_scores.max == 0.875


def test_min_score_compares_the_stored_score_with_the_given_bound_exactly():
    # The candidate d1 is stored as float32(0.7) = 0.699999988..., below min_score=0.7: it must be removed, as
    # TopKAbs(1.1) removes a candidate stored as float32(1.1) = 1.100000024 (methods compare in float64). min_score
    # instead compares in float32 (NumPy 2 casts the Python float to the array's float32, so 0.7 becomes
    # 0.699999988) and keeps it; the fill reserve's ``>= min_score`` does the same.
    spec = one_anchor([(2, 0.75), (1, 0.7)])
    assert f32(0.7) < 0.7
    result = select(
        build_pool(spec),
        {"method": NaiveTopK(), "num_negatives": 2, "min_score": 0.7, "output_format": "triplet", "on_short": "keep"},
    )
    assert result.statistics.removed_below_min_score == 1
    assert result.dataset["negative"] == ["d2"]


def test_sampled_with_a_tiny_temperature_still_picks_its_survivors():
    # temperature=1e-320 passes validation (> 0), but score / temperature overflows to +-inf and the sampler keeps
    # only finite keys: every survivor is lost and the row dropped. A tiny temperature should act as "top".
    spec = one_anchor([(1, 0.5), (2, -0.5), (3, 0.25)])
    kw = {"method": NaiveTopK(), "num_negatives": 2, "sampling": "sampled", "sample_from": 3, "temperature": 1e-320}
    with np.errstate(over="ignore"):
        result = select(build_pool(spec), {**kw, "output_format": "triplet"})
    assert result.dataset["negative"] == ["d1", "d3"]
