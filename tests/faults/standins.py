"""What the shared stand-ins cannot do for fault scenarios: tell which client is waiting for an
answer right now (so a kill can be aimed at the process waiting), answer a write GitHub
applied with an error, and hold a message at the mail relay until the test lets it go."""

from __future__ import annotations

import asyncio
import re
import threading
from dataclasses import dataclass
from typing import Any

from aiosmtpd.controller import Controller

from support.github_api import GitHubApiStandIn, _HttpError, _Identity, _Reply
from support.llm_api import LLMStandIn
from support.smtp import MailSink, SmtpServer


class InFlight:
    """The requests a stand-in is answering right now, by the client's port."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._requests: dict[int, tuple[str, str]] = {}

    def begin(self, port: int, method: str, path: str) -> None:
        with self._lock:
            self._requests[port] = (method, path)

    def end(self, port: int) -> None:
        with self._lock:
            self._requests.pop(port, None)

    def ports(self, method: str | None = None, path_regex: str = "") -> set[int]:
        """Client ports of the requests in flight with ``method`` and a matching path."""
        pattern = re.compile(path_regex)
        with self._lock:
            return {
                port
                for port, (m, path) in self._requests.items()
                if (method is None or m == method) and pattern.search(path)
            }


def _track(server: Any, in_flight: InFlight, method_name: str, http_method: str | None) -> None:
    """Make ``server`` note each request in ``in_flight`` while ``method_name`` serves it."""
    base = server.RequestHandlerClass

    def serve(handler: Any, *args: Any) -> None:
        port = handler.client_address[1]
        in_flight.begin(port, http_method or args[0], handler.path)
        try:
            getattr(base, method_name)(handler, *args)
        finally:
            in_flight.end(port)

    server.RequestHandlerClass = type("Tracked" + base.__name__, (base,), {method_name: serve})


class TrackedLLM(LLMStandIn):
    """The stand-in LLM, knowing which client ports wait for an answer."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.in_flight = InFlight()

    def start(self) -> TrackedLLM:
        super().start()
        _track(self._server, self.in_flight, "do_POST", "POST")
        return self


@dataclass
class _LateFault:
    method: str
    pattern: re.Pattern[str]
    status: int
    times: int


class FaultyGitHub(GitHubApiStandIn):
    """The stand-in GitHub, knowing which client ports wait for an answer, plus faults that
    strike after the request took effect."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._late: list[_LateFault] = []
        self.in_flight = InFlight()

    def start(self) -> FaultyGitHub:
        super().start()
        _track(self._server, self.in_flight, "_serve", None)
        return self

    def fail_after_applying(self, method: str, path_regex: str, status: int, times: int) -> None:
        """Apply the next ``times`` matching requests, then answer ``status`` (a proxy's 502)."""
        with self._lock:
            self._late.append(_LateFault(method.upper(), re.compile(path_regex), status, times))

    def clear_faults(self) -> None:
        super().clear_faults()
        with self._lock:
            self._late.clear()

    def _handle(
        self,
        method: str,
        path: str,
        prefix: str,
        query: dict[str, list[str]],
        body: Any,
        identity: _Identity,
    ) -> _Reply:
        reply = super()._handle(method, path, prefix, query, body, identity)
        for fault in self._late:  # the caller holds self._lock
            if fault.method == method and fault.pattern.search(path) and reply.status < 300:
                fault.times -= 1
                if fault.times <= 0:
                    self._late.remove(fault)
                raise _HttpError(fault.status, "Bad Gateway")
        return reply


class GatedSink(MailSink):
    """A mail sink that can hold each message at DATA until released, or drop it."""

    def __init__(self) -> None:
        super().__init__()
        self.gate = threading.Event()
        self.gate.set()
        self.holding = threading.Event()  # set while a message waits at the gate
        self.dropped = 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if not self.gate.is_set():
            self.holding.set()
            while not self.gate.is_set():
                await asyncio.sleep(0.02)
            self.holding.clear()
            # the sender died while we held its message: a relay that never answered 250
            # has not accepted it
            self.dropped += 1
            return "451 4.3.0 the sender went away"
        return await super().handle_DATA(server, session, envelope)


class GatedSmtpServer(SmtpServer):
    def __init__(self) -> None:
        super().__init__()
        self.sink: GatedSink = GatedSink()
        self.controller = Controller(self.sink, hostname="127.0.0.1", port=self.port)
