"""OpenAIJudge with the real ``openai`` client against a small OpenAI-compatible server started by the test on
127.0.0.1: normal replies, errors (5xx, 429), slow answers (timeouts), malformed content, the concurrency limit, the
check before the first question, and a whole ARHN run. Requests are few and bounded in time (timeouts of a few
seconds at most, with slow answers far slower than the timeout, so a loaded CI machine cannot turn a quick answer into
a timeout)."""

from __future__ import annotations

import socket
import time

import pytest

from st_hardneg import CandidatePool
from st_hardneg.data import load_default
from st_hardneg.relabel import ARHN, OpenAIJudge, Prompts
from tests.relabel.fake_openai import MODEL, FakeOpenAIServer, passages_of, rule_judge, user_message

pytest.importorskip("openai")


def judge_for(server, **kwargs):
    kwargs.setdefault("timeout", 2.0)
    kwargs.setdefault("max_retries", 1)
    return OpenAIJudge(base_url=server.url, model=MODEL, **kwargs)


def scripted(request, attempt):
    """Behaviour by the passage's text."""
    prompt = user_message(request)
    if "ALWAYS500" in prompt:
        return ("status", 500, {})
    if "FLAKY503" in prompt and attempt == 0:
        return ("status", 503, {})
    if "RATE429" in prompt and attempt == 0:
        return ("status", 429, {"retry-after-ms": "20"})
    if "ALWAYSSLOW" in prompt:
        return ("sleep", 8.0, "ANSWER: too late")
    if "SLOWONCE" in prompt and attempt == 0:
        return ("sleep", 8.0, "ANSWER: too late")
    if "GARBAGE" in prompt:
        return "lorem ipsum dolor"
    if "NOCHOICES" in prompt:
        return ("json", {"id": "x", "object": "chat.completion", "created": 0, "model": MODEL, "choices": []})
    if "NOTJSON" in prompt:
        return ("raw", b"this is not json")
    if prompt.startswith("Question: "):
        return "ANSWER: the passage says so" if "yes" in prompt else "NO ANSWER"
    return " > ".join(f"[{i + 1}]" for i in reversed(range(len(passages_of(prompt)))))


def test_replies_errors_retries_timeouts_and_malformed_content():
    with FakeOpenAIServer(scripted) as server:
        # a timeout of 2 s: quick answers (the retries included) stay well inside it on a loaded machine, the slow
        # ones (8 s) never do
        judge = judge_for(server)
        passages = [
            "yes, plain", "no, plain", "yes ALWAYS500", "yes FLAKY503", "yes RATE429", "yes ALWAYSSLOW",
            "yes SLOWONCE", "yes GARBAGE", "yes NOCHOICES", "yes NOTJSON",
        ]  # fmt: skip
        start = time.monotonic()
        answers = judge.answer(["q?"] * len(passages), passages)
        elapsed = time.monotonic() - start
        got = {p: (a.status, a.snippet) for p, a in zip(passages, answers)}
        assert got["yes, plain"] == ("answer", "the passage says so")
        assert got["no, plain"] == ("no answer", None)
        assert got["yes FLAKY503"] == got["yes RATE429"] == got["yes SLOWONCE"] == ("answer", "the passage says so")
        assert got["yes GARBAGE"] == ("unparseable", None)
        for p in ("yes ALWAYS500", "yes ALWAYSSLOW", "yes NOCHOICES", "yes NOTJSON"):
            assert got[p][0] == "failed", p
        errors = {p: a.error for p, a in zip(passages, answers)}
        assert errors["yes ALWAYS500"].startswith("HTTP 500")
        assert errors["yes ALWAYSSLOW"].startswith("timed out")
        assert "no message content" in errors["yes NOCHOICES"]
        # one retry each (max_retries=1): the 500, the flaky and the rate-limited questions were asked twice
        asked = {p: sum(p in r for r in server.requests) for p in passages}
        assert asked["yes ALWAYS500"] == asked["yes FLAKY503"] == asked["yes RATE429"] == asked["yes SLOWONCE"] == 2
        assert asked["yes, plain"] == 1
        assert elapsed < 16, elapsed  # timeouts of 2 s, one retry: bounded, well before the 8 s answers would come


def test_rankings_come_back_in_the_identifiers_order():
    with FakeOpenAIServer(scripted) as server:
        rankings = judge_for(server).rank(["q?"], [["a", "b", "c"]], [[1]])
    assert rankings[0].status == "ranked" and rankings[0].order == (2, 1, 0)
    assert "[1] a\n[2] b\n[3] c" in server.requests[0]  # the positive's position is not revealed


def test_requests_run_concurrently_up_to_the_limit():
    def slow(request, attempt):
        return ("sleep", 0.15, "NO ANSWER")

    with FakeOpenAIServer(slow) as server:
        judge = judge_for(server, concurrency=3, timeout=5.0)
        answers = judge.answer(["q?"] * 9, [f"passage {i}" for i in range(9)])
    assert [a.status for a in answers] == ["no answer"] * 9
    # three at once (each request is held 0.15 s), never more: concurrent, and capped
    assert server.max_in_flight == 3


def test_the_check_before_the_first_question():
    with FakeOpenAIServer(scripted, models=("another-model",)) as server:
        with pytest.raises(ValueError, match="does not serve 'judge-model'.*another-model"):
            judge_for(server).check()
    with FakeOpenAIServer(scripted, models=None) as server:  # no /models route (some servers): let through
        judge_for(server).check()
        assert server.requests == []
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(ValueError, match="cannot reach the judge"):
        OpenAIJudge(base_url=f"http://127.0.0.1:{port}/v1", model=MODEL, timeout=0.5, max_retries=0).check()


def test_fingerprint_covers_what_changes_a_reply_and_no_secret_is_recorded():
    a = OpenAIJudge(base_url="http://127.0.0.1:1/v1", model="m", api_key="secret-key", concurrency=2)
    assert a.fingerprint() == OpenAIJudge(base_url="http://127.0.0.1:2/v1", model="m", timeout=5).fingerprint()
    assert a.fingerprint() != OpenAIJudge(model="other").fingerprint()
    assert a.fingerprint() != OpenAIJudge(model="m", temperature=0.7).fingerprint()
    assert a.fingerprint() != OpenAIJudge(model="m", prompts=Prompts(system="Be brief.")).fingerprint()
    assert "secret-key" not in str(a.config())
    assert a.config()["prompts"]["answer"] == Prompts().answer
    with pytest.raises(ValueError, match="needs model="):
        OpenAIJudge(base_url="http://127.0.0.1:1/v1")
    with pytest.raises(TypeError, match="unknown option 'concurency'"):
        OpenAIJudge(model="m", concurency=2)


def test_a_whole_arhn_run_against_the_server(tmp_path):
    pairs, corpus = load_default()
    pool = CandidatePool.build(pairs, "bm25", corpus=corpus, depth=10, show_progress=False)
    with FakeOpenAIServer(rule_judge) as server:
        judge = judge_for(server, concurrency=4, timeout=5.0)
        judgments = pool.relabel(ARHN(judge, candidates=3, cache_folder=tmp_path), show_progress=False)
        asked = len(server.requests)
        s = judgments.statistics
        assert asked == s.answers.asked + s.rankings.asked == 56 + s.candidates
        assert s.failed == 0 and s.unparseable == 0 and s.answers.failed == 0
        assert s.relabeled + s.filtered > 0  # the rule finds answers among the candidates
        # every decision agrees with the server's rule: relabeled passages were ranked above the positive
        rows = judgments.to_dataset(pool).to_list()
        assert all(r["rank"] < r["positive_rank"] for r in rows if r["label"] == "relabeled")
        assert all(r["rank"] > r["positive_rank"] and r["snippet"] for r in rows if r["label"] == "filtered")
        # a second run with the same judge and prompts asks nothing
        pool.relabel(ARHN(judge, candidates=3, cache_folder=tmp_path), overwrite=True, show_progress=False)
        assert len(server.requests) == asked
    result = pool.select(num_negatives=2, show_progress=False, return_statistics=True)
    relabel = result.config["relabel"]
    assert relabel["judge"]["type"] == "openai" and relabel["judge"]["model"] == MODEL
    assert relabel["judge"]["prompts"] == Prompts().to_dict() and relabel["mode"] == "both"


@pytest.mark.slow
def test_the_documented_example_runs_against_a_served_model(tmp_path, monkeypatch):
    """docs/relabel.md's first Python block, as written, against a test server serving the model it names."""
    import re

    from tests.conftest import REPO_ROOT

    block = re.findall(r"```python\n(.*?)```", (REPO_ROOT / "docs" / "relabel.md").read_text(), flags=re.S)[0]
    pairs, corpus = load_default()
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("ST_HARDNEG_CACHE", str(tmp_path / "cache"))
    CandidatePool.build(pairs, "bm25", corpus=corpus, depth=30, show_progress=False).save("pool")
    with FakeOpenAIServer(rule_judge, models=("Qwen/Qwen2.5-7B-Instruct",)) as server:
        port = server.url.split(":")[-1].split("/")[0]
        monkeypatch.setattr("builtins.print", lambda *a, **k: None)
        scope = {"__name__": "__docs__"}
        exec(compile(block.replace("localhost:8000", f"127.0.0.1:{port}"), "relabel.md", "exec"), scope)
    assert scope["judgments"].statistics.candidates > 0 and len(scope["mined"]) > 0
    assert CandidatePool.load(tmp_path / "pool-judged").judgments.mode == "both"
    assert (tmp_path / "cache" / "judgments" / "judgments.sqlite").is_file()
