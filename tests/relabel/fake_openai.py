"""A small OpenAI-compatible chat-completions server for tests: stdlib ``http.server`` in a thread, on 127.0.0.1.

``FakeOpenAIServer(reply)`` serves ``GET /v1/models`` (404 with ``models=None``) and
``POST /v1/chat/completions``. ``reply(request, attempt)`` gets the parsed JSON request and how many times the same
request was seen before (0 the first time), and returns one of:

- a string: a normal completion with that content;
- ``("status", code, headers)``: an error answer (e.g. 503, or 429 with ``retry-after-ms``);
- ``("sleep", seconds, content)``: answer ``content`` after ``seconds`` (a slow answer; the client may time out);
- ``("raw", body_bytes)``: a 200 answer with this body as is (malformed JSON);
- ``("json", obj)``: a 200 answer with this JSON (e.g. no ``choices``).

Every request is logged (``requests``: the user message of each chat request, in arrival order), and the largest
number of requests in flight at once is kept (``max_in_flight``).
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

MODEL = "judge-model"


def user_message(request: dict[str, Any]) -> str:
    return next(m["content"] for m in request["messages"] if m["role"] == "user")


class FakeOpenAIServer:
    def __init__(
        self, reply: Callable[[dict[str, Any], int], Any], *, models: tuple[str, ...] | None = (MODEL,)
    ) -> None:
        self.reply = reply
        self.models = models
        self.requests: list[str] = []
        self.seen: Counter = Counter()
        self.in_flight = 0
        self.max_in_flight = 0
        self.lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:  # quiet
                pass

            def _done(self) -> None:
                """The request stops counting as in flight (once), before its answer goes out: a client that sends
                its next request on receiving this answer must not be counted twice."""
                if getattr(self, "_counted", False):
                    self._counted = False
                    with server.lock:
                        server.in_flight -= 1

            def _send(self, code: int, body: bytes, headers: dict[str, str] | None = None) -> None:
                self._done()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                try:
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):  # the client gave up (timeout)
                    pass

            def do_GET(self) -> None:  # noqa: N802
                if self.path.rstrip("/").endswith("/models") and server.models is not None:
                    data = [{"id": m, "object": "model", "created": 0, "owned_by": "test"} for m in server.models]
                    self._send(200, json.dumps({"object": "list", "data": data}).encode())
                else:
                    self._send(404, b'{"error": {"message": "not found"}}')

            def do_POST(self) -> None:  # noqa: N802
                length = int(self.headers.get("Content-Length", 0))
                request = json.loads(self.rfile.read(length))
                text = user_message(request)
                with server.lock:
                    server.requests.append(text)
                    attempt = server.seen[text]
                    server.seen[text] += 1
                    server.in_flight += 1
                    server.max_in_flight = max(server.max_in_flight, server.in_flight)
                self._counted = True
                try:
                    self._answer(request, attempt)
                finally:
                    self._done()

            def _answer(self, request: dict[str, Any], attempt: int) -> None:
                out = server.reply(request, attempt)
                if isinstance(out, tuple) and out[0] == "status":
                    _, code, headers = out
                    self._send(code, json.dumps({"error": {"message": f"error {code}"}}).encode(), headers)
                    return
                if isinstance(out, tuple) and out[0] == "raw":
                    self._send(200, out[1])
                    return
                if isinstance(out, tuple) and out[0] == "json":
                    self._send(200, json.dumps(out[1]).encode())
                    return
                if isinstance(out, tuple) and out[0] == "sleep":
                    time.sleep(out[1])
                    out = out[2]
                self._send(200, json.dumps(completion(request, out)).encode())

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"

    def __enter__(self) -> FakeOpenAIServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def completion(request: dict[str, Any], content: str) -> dict[str, Any]:
    return {
        "id": "chatcmpl-test",
        "object": "chat.completion",
        "created": 0,
        "model": request.get("model", MODEL),
        "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
    }


def passages_of(prompt: str) -> list[str]:
    """The numbered passages of a ranking prompt (``[i] text`` lines)."""
    out = []
    for line in prompt.splitlines():
        if line.startswith("[") and "] " in line and line[1 : line.index("]")].isdigit():
            out.append(line[line.index("] ") + 2 :])
    return out


def rule_judge(request: dict[str, Any], attempt: int) -> str:
    """A deterministic 'model': answers when the passage mentions the query's first word; ranks passages that do
    first (in the given order), then the rest."""
    prompt = user_message(request)
    if prompt.startswith("Question: "):
        query = prompt.split("\n", 1)[0][len("Question: ") :]
        passage = prompt.split("Passage: ", 1)[1].split("\n\nDoes this passage", 1)[0]
        key = _key_word(query)
        return f"ANSWER: {passage[:40]}" if key and key in passage.lower() else "NO ANSWER"
    query = prompt.split("answer this question: ", 1)[1].split("\n", 1)[0]
    key = _key_word(query)
    ps = passages_of(prompt)
    hits = [i for i, p in enumerate(ps) if key and key in p.lower()]
    rest = [i for i in range(len(ps)) if i not in hits]
    return " > ".join(f"[{i + 1}]" for i in hits + rest)


def _key_word(query: str) -> str:
    words = [w.strip("?.,!").lower() for w in query.split() if len(w.strip("?.,!")) > 4]
    return words[-1] if words else ""
