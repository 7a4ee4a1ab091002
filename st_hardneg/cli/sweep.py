"""``st-hardneg sweep``: select every combination of methods, negative counts and samplers from one pool, score each
negative set with ECI before any training, print the ranked table and write it as JSON.

    st-hardneg sweep ../shared/data/scifact --methods naive-topk topk-percpos:0.95 topk-marginpos:0.05 \\
        --num-negatives 1 2 4 --output sweep.json --save-pool pool/
    st-hardneg sweep --pool pool/ --methods topk-percpos:0.9 topk-percpos:0.95 --sampling top sampled
    st-hardneg sweep --pool pool/ --methods naive-topk topk-percpos:0.95 --num-negatives 1 4 \\
        --score train --student sentence-transformers/all-MiniLM-L6-v2 --steps 100 --holdout 0.2 --train-cache runs/

The table is what :meth:`CandidatePool.sweep <st_hardneg.pool.CandidatePool.sweep>` returns; the last line gives
the options that mine with the top-ranked configuration. As ``st-hardneg mine``, every option and output path is
checked before any model loads, and an existing output is replaced only with ``--overwrite``.
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
from pathlib import Path

from st_hardneg.cli.mine import DEFAULT_TEACHER, load_inputs, pool_teacher, teacher_of_option
from st_hardneg.cli.options import (
    add_dataset_argument,
    add_settings_options,
    command_parser,
    given_options,
    log_as_asked,
    quiet_progress_bars,
    settings_from_args,
)
from st_hardneg.eci.settings import ECISettings
from st_hardneg.filters.methods import get_method
from st_hardneg.pool.settings import PoolSettings
from st_hardneg.sampling.samplers import SAMPLINGS
from st_hardneg.select.settings import SelectionSettings
from st_hardneg.select.sweep import DEFAULT_RANK_BY, RANK_BY
from st_hardneg.sweep_training.settings import TrainingSweepSettings
from st_hardneg.teachers.settings import DenseSettings

logger = logging.getLogger("st_hardneg")

#: Selection fields the sweep varies (lists here); the other selection options are shared by every configuration.
_VARIED = ("method", "num_negatives", "sampling")
#: ECI options offered here: top_n and clamp (the columns are the pool's, the encoding batch size the teacher's;
#: the temperature of the gradient-norm heuristic does not change ECI and would clash with the sampler's).
_ECI_EXCLUDE = ("anchor_column", "positive_column", "batch_size", "temperature")


def build_parser() -> argparse.ArgumentParser:
    p = command_parser(
        "st-hardneg sweep",
        "Score mining configurations with ECI before training: select each from one candidate pool.",
    )
    add_dataset_argument(p)
    grid = p.add_argument_group("the configurations swept (every combination)")
    grid.add_argument(
        "--methods",
        nargs="+",
        type=_method,
        metavar="NAME[:VALUE]",
        help="mining methods, e.g. naive-topk topk-percpos:0.95 topk-marginpos:0.05 (default: auto, which chooses one "
        "of the first two from the positives per anchor)",
    )
    grid.add_argument("--num-negatives", nargs="+", type=_count, metavar="N", help="negatives per row (default: 3)")
    grid.add_argument("--sampling", nargs="+", choices=SAMPLINGS, help="samplers (default: top)")
    grid.add_argument(
        "--score",
        default="teacher",
        choices=("teacher", "train"),
        help="teacher: figures of the teacher's scores held in the pool (S_n, ECI; no training, compare sets with the "
        "same number of negatives); train: fine-tune a fresh copy of --student for --steps on each set and score "
        "NDCG@10 / MRR@10 on held-out anchors of your pairs (comparable across numbers of negatives; default: teacher)",
    )
    grid.add_argument(
        "--rank-by",
        default=None,
        choices=RANK_BY,
        help=f"sort the table by this column, highest first (default: {DEFAULT_RANK_BY}, the mean negative score S_n, "
        "which predicted the trained model's quality on SciFact where ECI did not; ndcg@10 with --score train). "
        "S_n, ECI and max_margin rank within each --num-negatives",
    )
    grid.add_argument(
        "--score-model",
        metavar="MODEL",
        help="score the sets under this SentenceTransformer (e.g. the student before training) instead of with the "
        "teacher's scores held in the pool",
    )
    io = p.add_argument_group("input and output")
    io.add_argument("--corpus", help="documents to mine from (jsonl/json/csv/parquet/txt); BEIR folders bring theirs")
    io.add_argument("--split", default="train", help="split of a BEIR folder or saved DatasetDict (default: train)")
    io.add_argument(
        "--teacher",
        default=DEFAULT_TEACHER,
        help=f"a sentence-transformers model name or path, or 'bm25' (default: {DEFAULT_TEACHER}); with --pool, the "
        "teacher searched again for --on-short deepen (default: the pool's)",
    )
    io.add_argument("--output", default="sweep.json", help="the table as JSON (default: sweep.json)")
    io.add_argument("--overwrite", action="store_true", help="replace existing outputs (never other files)")
    io.add_argument("--save-pool", metavar="DIR", help="also save the candidate pool, to select from it later")
    io.add_argument("--pool", metavar="DIR", help="sweep a saved pool instead of mining (no encoding)")
    io.add_argument("--quiet", action="store_true", help="no progress bars and no info messages")
    io.add_argument("--verbose", action="store_true", help="debug messages, and the traceback of an error")
    add_settings_options(p, SelectionSettings, title="selection shared by every configuration", exclude=_VARIED)
    add_settings_options(p, ECISettings, title="ECI (ECISettings)", exclude=_ECI_EXCLUDE)
    add_settings_options(p, PoolSettings, title="pool build (PoolSettings)")
    add_settings_options(p, DenseSettings, title="dense teacher (DenseSettings)")
    add_settings_options(p, TrainingSweepSettings, title="scoring by training (--score train; TrainingSweepSettings)")
    return p


def run(args: argparse.Namespace, parser: argparse.ArgumentParser, argv: list[str]) -> int:
    log_as_asked(args)
    given = given_options(parser, argv)

    # 1. settings: every configuration of the grid is checked before any work
    base = settings_from_args(SelectionSettings, _with_first_values(args))
    eci_settings = settings_from_args(ECISettings, args)
    pool_settings = settings_from_args(PoolSettings, args)
    dense = settings_from_args(DenseSettings, args)
    training = _training_settings(args, given, base)
    grid = {
        "methods": args.methods or [base.method],
        "num_negatives": args.num_negatives or [base.num_negatives],
        "sampling": args.sampling or [base.sampling],
    }
    for method in grid["methods"]:
        for n in grid["num_negatives"]:
            for sampling in grid["sampling"]:
                config = base.replace(method=method, num_negatives=n, sampling=sampling)
                if not args.pool:
                    config.check_depth(pool_settings.depth)
    _check_combinations(args, given, base)

    # 2. outputs
    from st_hardneg.outputs import check_not_inputs, check_output_files, check_output_folder

    out = Path(args.output)
    if out.suffix.lower() != ".json":
        raise ValueError(f"--output {out}: the sweep is written as a .json file")
    from st_hardneg.select.sweep import is_saved_sweep

    check_output_files(
        [out], overwrite=args.overwrite, written_by_us=lambda: is_saved_sweep(out), what="a sweep written by st-hardneg"
    )
    check_not_inputs(
        {"--output": out, "--save-pool": args.save_pool},
        {"dataset": args.dataset, "--corpus": args.corpus, "--pool": args.pool},
    )
    if args.save_pool:
        check_output_folder(Path(args.save_pool), overwrite=args.overwrite, marker="pool.json", what="a candidate pool")

    # 3. data, then the model
    progress = not args.quiet
    if args.quiet:
        quiet_progress_bars()
    from st_hardneg.candidate_pool import CandidatePool

    pairs, corpus, source = load_inputs(args)
    if args.pool:
        pool = CandidatePool.load(args.pool, dataset=pairs, corpus=corpus)
        if base.on_short == "deepen":
            pool.attach_teacher(
                pool_teacher(pool, args.teacher if "teacher" in given else None, dense, given), show_progress=progress
            )
    else:
        pool = CandidatePool.build(
            pairs, teacher_of_option(args.teacher, dense), corpus=corpus, settings=pool_settings, show_progress=progress
        )
        pool.config["source"] = source
    score = "train" if training is not None else None
    if args.score_model:
        from st_hardneg.teachers.loading import load_sentence_transformer

        score = load_sentence_transformer(args.score_model)
    sweep = pool.sweep(
        grid["methods"],
        grid["num_negatives"],
        grid["sampling"],
        settings=base,
        score=score,
        rank_by=args.rank_by,
        eci_settings=eci_settings,
        training=training,
        show_progress=progress,
    )
    if args.save_pool:  # with the deeper candidates the sweep found (--on-short deepen)
        pool.keep_deepened(sweep).save(args.save_pool, overwrite=args.overwrite)
    sweep.context["source"] = source
    sweep.save(out, overwrite=args.overwrite)
    print(sweep.to_markdown())
    scored = "the teacher's scores" if sweep.scored_with == "teacher" else sweep.scored_with
    if training is not None:
        scored = f"training {training.student} for {training.steps} steps (held-out NDCG@10 and MRR@10)"
    seconds = f"{sweep.seconds:.2f} s"
    print(f"\n{len(sweep)} configurations scored with {scored} in {seconds}, ranked by {sweep.rank_by} -> {out}")
    if sweep.ranked_within_counts:
        print(
            f"{sweep.rank_by} compares only sets with the same number of negatives; the best of each count "
            "(--score train compares across counts):"
        )
        for n in sweep.counts:
            print(f"Best with {n} negative{'s' * (n != 1)}: {_options(sweep.best(num_negatives=n))}")
    else:
        print(f"Best: {_options(sweep.best())}")
    return 0


def _options(best: SelectionSettings) -> str:
    return f"--method {best.method.spec} --num-negatives {best.num_negatives} --sampling {best.sampling} " + (
        f"--on-short {best.on_short}"
    )


def _training_settings(
    args: argparse.Namespace, given: set[str], base: SelectionSettings
) -> TrainingSweepSettings | None:
    """The training settings of ``--score train`` (checked now, before any model loads), else None."""
    names = {f.metadata.get("cli_name") or f.name for f in dataclasses.fields(TrainingSweepSettings)}
    training_given = sorted(given & {n.replace("-", "_") for n in names})
    if args.score != "train":
        if training_given:
            flags = ", ".join("--" + n.replace("_", "-") for n in training_given)
            raise ValueError(f"{flags} apply with --score train (scoring each set by training a student)")
        if args.rank_by in ("ndcg@10", "mrr@10"):
            raise ValueError(f"--rank-by {args.rank_by} needs --score train")
        return None
    if args.score_model:
        raise ValueError("--score-model scores the sets with a model's similarities; --score train trains --student")
    training = settings_from_args(TrainingSweepSettings, args)
    if training.student is None:
        raise ValueError("--score train needs --student MODEL (the SentenceTransformer fine-tuned on each set)")
    if base.output_format not in ("n-tuple", "triplet"):
        raise ValueError(f"--score train trains on n-tuple or triplet rows, not --output-format {base.output_format}")
    return training


def _with_first_values(args: argparse.Namespace) -> argparse.Namespace:
    """The parsed options with the first value of each varied list as the base settings' value."""
    values = dict(vars(args))
    defaults = SelectionSettings()
    values["method"] = (args.methods or [defaults.method])[0]
    values["num_negatives"] = (args.num_negatives or [defaults.num_negatives])[0]
    values["sampling"] = (args.sampling or [defaults.sampling])[0]
    return argparse.Namespace(**values)


def _check_combinations(args: argparse.Namespace, given: set[str], base: SelectionSettings) -> None:
    build_only = {"depth", "num_random", "save_pool"}
    if args.dataset is None:  # the pool fixes its dataset's columns; with a dataset they say how to read it
        build_only |= {"anchor_column", "positive_column"}
    if args.pool:
        clash = sorted(given & build_only)
        if base.on_short != "deepen":
            clash += sorted(given & ({"teacher"} | set(DenseSettings.field_names())))
        if clash:
            names = ", ".join("--" + c.replace("_", "-") for c in clash)
            raise ValueError(f"{names} build a pool and do not apply with --pool (the saved pool is used as built)")
    elif args.teacher.strip().lower() == "bm25":
        dense_given = sorted(given & set(DenseSettings.field_names()))
        if dense_given:
            names = ", ".join("--" + c.replace("_", "-") for c in dense_given)
            raise ValueError(f"{names} apply to dense teachers, not to --teacher bm25")
    if args.dataset is None and (args.corpus or "split" in given):
        raise ValueError("--corpus and --split need a dataset argument (the embedded example has its own)")
    if args.pool and args.save_pool and Path(args.pool).resolve() == Path(args.save_pool).resolve():
        raise ValueError(f"--pool and --save-pool are the same path: {args.pool}")


def _method(text: str):
    try:
        return get_method(text)
    except (TypeError, ValueError) as err:
        raise argparse.ArgumentTypeError(str(err)) from None


def _count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"num_negatives must be >= 1, got {value}")
    return value
