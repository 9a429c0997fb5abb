"""The tests' GitHub and LLM stand-ins, with arrival times recorded for the pipeline benchmark.

What the stand-ins answer is unchanged. The subclasses add each request's arrival time
(``time.time()``, comparable across processes on this machine) and change two things about
the sockets only, so that the benchmark measures commit-digest rather than the stand-ins:

- ``TCP_NODELAY`` on every connection. The stand-ins write the headers and the body of an
  answer in two ``send`` calls; on a keep-alive connection Nagle's algorithm holds the body
  back until the client ACKs the headers, which Linux delays by up to 40 ms (measured: a
  commit fetch takes 44 ms without it, 0.25 ms with it). GitHub and OpenAI do not stall so.
- A listen backlog large enough for dozens of worker processes connecting at once (the GitHub
  stand-in keeps the default of 5, which drops connections that then wait a second for their
  SYN to be sent again).
"""

from __future__ import annotations

import json
import re
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from support import github_api, llm_api
from support.github_api import GitHubApiStandIn, RecordedRequest
from support.llm_api import LLMStandIn

BACKLOG = 256


@dataclass(frozen=True)
class Arrival:
    at: float  # time.time()
    method: str
    path: str


def _serve(
    handler: type[BaseHTTPRequestHandler], name: str
) -> tuple[ThreadingHTTPServer, threading.Thread]:
    """Serve ``handler`` (with TCP_NODELAY) on a free 127.0.0.1 port in a daemon thread."""
    nodelay = type(handler.__name__, (handler,), {"disable_nagle_algorithm": True})
    server = ThreadingHTTPServer(("127.0.0.1", 0), nodelay, bind_and_activate=False)
    server.request_queue_size = BACKLOG
    server.daemon_threads = True
    server.server_bind()
    server.server_activate()
    # a short poll keeps stop() quick: shutdown() waits for the loop's next poll
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, name=name, daemon=True
    )
    thread.start()
    return server, thread


class TimedGitHub(GitHubApiStandIn):
    """The GitHub stand-in, noting when each request arrived."""

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.arrivals: list[Arrival] = []

    def start(self) -> TimedGitHub:
        if self._server is None:
            self._server, self._thread = _serve(github_api._handler_for(self), "github-stand-in")
        return self

    def _record(self, request: RecordedRequest) -> None:
        arrived = time.time()
        super()._record(request)
        with self._lock:
            self.arrivals.append(Arrival(arrived, request.method, request.path))

    def first_arrivals(self, method: str, pattern: re.Pattern[str]) -> dict[str, float]:
        """The first arrival of each ``method`` request whose path matches, by the sha in it."""
        found: dict[str, float] = {}
        with self._lock:
            arrivals = list(self.arrivals)
        for arrival in arrivals:
            if arrival.method != method:
                continue
            match = pattern.fullmatch(arrival.path)
            if match and match["sha"] not in found:
                found[match["sha"]] = arrival.at
        return found


class TimedLLM(LLMStandIn):
    """The LLM stand-in, noting when each request arrived and which marked commit it was for."""

    def __init__(self, marker: re.Pattern[str], **options: Any) -> None:
        super().__init__(**options)
        self.marker = marker
        self.arrivals: dict[str, float] = {}  # marker → first arrival

    def start(self) -> TimedLLM:
        if self._server is None:
            self._server, self._thread = _serve(llm_api._handler_for(self), "llm-stand-in")
        return self

    def _record(self, body: dict[str, Any], headers: dict[str, str]) -> None:
        arrived = time.time()
        super()._record(body, headers)
        match = self.marker.search(json.dumps(body.get("messages") or []))
        if match:
            with self._lock:
                self.arrivals.setdefault(match[1], arrived)
