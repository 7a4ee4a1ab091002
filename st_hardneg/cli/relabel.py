"""``st-hardneg relabel POOL``: judge a saved pool's top candidates with ARHN and write the judgments into it.

    st-hardneg relabel pool/ --judge-url http://localhost:8000/v1 --judge-model Qwen/Qwen2.5-7B-Instruct
    st-hardneg relabel pool/ --judge-model Qwen/Qwen2.5-0.5B-Instruct --mode filter --output pool-judged/
    st-hardneg relabel pool/ --judge cross-encoder --judge-model cross-encoder/ms-marco-MiniLM-L6-v2

The judge is an OpenAI-compatible server with ``--judge-url`` (vLLM, TGI, llama.cpp), a local causal LM without it
(``transformers``), or a cross-encoder (``--judge cross-encoder``). Every check runs before the first question: the
options, the pool, the output (judgments already in the pool are replaced only with ``--overwrite``; ``--output``
follows the overwrite rules of saved pools), the depth, and the judge itself (the server is reachable and serves the
model; the tokenizer has a chat template). Replies are cached (``--cache-folder``), so an interrupted run resumes.
Then ``st-hardneg --pool POOL ...`` selects with the judgments.
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
from pathlib import Path

from st_hardneg.cli.options import (
    add_settings_groups,
    command_parser,
    given_options,
    log_as_asked,
    option_dest,
    quiet_progress_bars,
    settings_from_args,
)
from st_hardneg.relabel.prompts import Prompts
from st_hardneg.relabel.settings import (
    ARHNSettings,
    ChatSettings,
    CrossEncoderJudgeSettings,
    OpenAIJudgeSettings,
    TransformersJudgeSettings,
)

logger = logging.getLogger("st_hardneg")

JUDGES = ("openai", "transformers", "cross-encoder")
#: The settings of each judge type: their options are refused with another judge.
_JUDGE_SETTINGS = {
    "openai": (OpenAIJudgeSettings, ChatSettings, Prompts),
    "transformers": (TransformersJudgeSettings, ChatSettings, Prompts),
    "cross-encoder": (CrossEncoderJudgeSettings,),
}


def build_parser() -> argparse.ArgumentParser:
    p = command_parser(
        "st-hardneg relabel",
        "Relabel and filter a saved pool's hard negatives with a judge (ARHN: answer snippets, then a "
        "listwise ranking against the positive).",
    )
    p.add_argument("pool", help="a candidate pool saved with pool.save() or st-hardneg --save-pool")
    judge = p.add_argument_group("judge")
    judge.add_argument(
        "--judge",
        choices=JUDGES,
        help="openai: an OpenAI-compatible server (default with --judge-url); transformers: a local causal LM "
        "(default without); cross-encoder: a sentence-transformers CrossEncoder",
    )
    judge.add_argument("--judge-url", metavar="URL", help="the server's API root, e.g. http://localhost:8000/v1")
    judge.add_argument("--judge-model", metavar="NAME", help="the model: served name, or a local name or folder")
    io = p.add_argument_group("output")
    io.add_argument("--output", metavar="DIR", help="write a new pool folder with the judgments (default: into POOL)")
    io.add_argument("--overwrite", action="store_true", help="replace judgments in POOL, or a pool at --output")
    io.add_argument("--quiet", action="store_true", help="no progress bars and no info messages")
    io.add_argument("--verbose", action="store_true", help="debug messages, and the traceback of an error")
    add_settings_groups(p, _OPTION_GROUPS)
    return p


#: ARHN's, the prompts' and each judge's settings: their fields are options, in groups with these titles.
_OPTION_GROUPS = (
    (ARHNSettings, "ARHN (ARHNSettings)"),
    (Prompts, "prompts of LLM judges (Prompts)"),
    (ChatSettings, "generation of LLM judges (ChatSettings)"),
    (OpenAIJudgeSettings, "--judge openai (OpenAIJudgeSettings)"),
    (TransformersJudgeSettings, "--judge transformers (TransformersJudgeSettings)"),
    (CrossEncoderJudgeSettings, "--judge cross-encoder (CrossEncoderJudgeSettings)"),
)


def run(args: argparse.Namespace, parser: argparse.ArgumentParser, argv: list[str]) -> int:
    log_as_asked(args)
    given = given_options(parser, argv)

    # 1. options
    kind = _judge_kind(args, parser, given)
    settings = settings_from_args(ARHNSettings, args)
    judge_settings = {cls: settings_from_args(cls, args) for cls in _JUDGE_SETTINGS[kind]}

    # 2. the pool and where the judgments go
    from st_hardneg.candidate_pool import CandidatePool
    from st_hardneg.outputs import check_output_folder

    pool_path = Path(args.pool)
    if not (pool_path / "pool.json").is_file():
        raise FileNotFoundError(f"{pool_path} is not a saved candidate pool (no pool.json)")
    out = Path(args.output) if args.output else None
    if out is not None:
        if out.resolve() == pool_path.resolve():
            raise ValueError("--output is POOL itself; leave --output out to write the judgments into POOL")
        check_output_folder(out, overwrite=args.overwrite, marker="pool.json", what="a candidate pool")
    pool = CandidatePool.load(pool_path)
    if out is None and pool.judgments is not None and not args.overwrite:
        raise FileExistsError(
            f"{pool_path} already holds judgments (mode {pool.judgments.mode!r}); pass --overwrite to replace them, "
            "or --output DIR for a new pool"
        )

    # 3. the method and the judge, checked before the first question
    from st_hardneg.relabel.arhn import ARHN

    arhn = ARHN(_make_judge(kind, args, judge_settings), settings)
    arhn.check(pool)
    if args.quiet:
        quiet_progress_bars()
    try:
        judgments = pool.relabel(arhn, overwrite=True, show_progress=not args.quiet)
    except RuntimeError as err:  # the judge failed chunk after chunk: stopped, replies so far cached
        parser.exit(1, f"{parser.prog}: error: {err}\n")
    if out is None:
        from st_hardneg.pool.storage import save_judgments

        save_judgments(pool, pool_path)
    else:
        pool.save(out, overwrite=args.overwrite)
    s = judgments.statistics
    print(
        f"Judged {s.candidates} candidates of {s.anchors} anchors with {arhn.judge.name} (mode {s.mode}): "
        f"{s.relabeled} relabeled, {s.filtered} filtered, {s.unparseable} unparseable, {s.failed} failed "
        f"({s.answers.asked + s.rankings.asked} questions asked, {s.answers.cached + s.rankings.cached} from the "
        f"cache) -> {out or pool_path}"
    )
    return 0


def _judge_kind(args: argparse.Namespace, parser: argparse.ArgumentParser, given: set[str]) -> str:
    kind = args.judge or ("openai" if args.judge_url else "transformers")
    if not args.judge_model:
        raise ValueError("--judge-model is required (the served model's name, or a local model name or folder)")
    if kind == "openai" and not args.judge_url:
        raise ValueError("--judge openai needs --judge-url (e.g. http://localhost:8000/v1)")
    if kind != "openai" and args.judge_url:
        raise ValueError(f"--judge-url is for --judge openai, not --judge {kind}")
    own = {a.dest for cls in _JUDGE_SETTINGS[kind] for a in _actions(parser, cls)}
    others = {a.dest: a for k, classes in _JUDGE_SETTINGS.items() for cls in classes for a in _actions(parser, cls)}
    clash = sorted(others[d].option_strings[0] for d in given if d in others and d not in own)
    if clash:
        verb = "applies" if len(clash) == 1 else "apply"
        raise ValueError(f"{', '.join(clash)} {verb} to another judge, not to --judge {kind}")
    return kind


def _actions(parser: argparse.ArgumentParser, cls: type) -> list[argparse.Action]:
    """The options generated from ``cls``."""
    dests = {option_dest(f) for f in dataclasses.fields(cls)}
    return [a for a in parser._actions if a.dest in dests]


def _make_judge(kind: str, args: argparse.Namespace, settings: dict[type, object]):
    if kind == "openai":
        from st_hardneg.relabel.judges.openai import OpenAIJudge

        return OpenAIJudge(
            base_url=args.judge_url,
            model=args.judge_model,
            prompts=settings[Prompts],
            settings=settings[OpenAIJudgeSettings],
            chat=settings[ChatSettings],
        )
    if kind == "transformers":
        from st_hardneg.relabel.judges.transformers import TransformersJudge

        return TransformersJudge(
            args.judge_model,
            prompts=settings[Prompts],
            settings=settings[TransformersJudgeSettings],
            chat=settings[ChatSettings],
        )
    from st_hardneg.relabel.judges.cross_encoder import CrossEncoderJudge

    return CrossEncoderJudge(args.judge_model, settings[CrossEncoderJudgeSettings])
