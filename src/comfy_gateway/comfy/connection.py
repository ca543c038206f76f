"""One persistent WebSocket per (process, backend), demultiplexed by prompt id.

ComfyUI sends a prompt's execution messages only to the socket whose ``clientId`` is the
prompt's ``client_id``, so a worker keeps one socket per backend and routes what arrives
to the :class:`PromptFeed` of each followed prompt. Liveness is judged by ping/pong, never
by silence: a node may run for minutes without a message.

When the socket drops, the connection reopens it with capped exponential backoff and
resynchronises every followed prompt: still in ``/queue`` → keep following; in
``/history/{id}`` → replay its recorded outcome; in neither → PromptNotFound. It never
resubmits. The ``executing`` message ComfyUI sends on reconnect carries no prompt id;
it is attributed to the running item of ``/queue``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Callable
from types import TracebackType

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus, WebSocketException

from comfy_gateway.comfy.client_identity import make_client_id
from comfy_gateway.comfy.events import (
    Event,
    Executing,
    PreviewImage,
    Status,
    event_prompt_id,
    parse_binary_frame,
    parse_text_frame,
)
from comfy_gateway.comfy.http_client import ComfyHttpClient
from comfy_gateway.comfy.http_protocol import HistoryEntry, QueueSnapshot
from comfy_gateway.comfy.prompt_feed import PromptFeed
from comfy_gateway.comfy.reconnect_policy import ReconnectPolicy
from comfy_gateway.errors import (
    ComfyError,
    ComfyProtocolError,
    ComfySocketClosed,
    ComfyTimeout,
    ComfyUnavailable,
    PromptNotFound,
)

logger = logging.getLogger(__name__)
# One live socket per clientId in this process: a second one would silently replace the
# first on the ComfyUI side, and the first one's followers would wait forever.
_LIVE_CONNECTIONS: dict[str, BackendConnection] = {}
_FEATURE_FLAGS = json.dumps({"type": "feature_flags", "data": {"supports_preview_metadata": True}})


def websocket_url(base_url: str, client_id: str) -> str:
    scheme, _, rest = base_url.rstrip("/").partition("://")
    ws_scheme = "wss" if scheme == "https" else "ws"
    return f"{ws_scheme}://{rest}/ws?clientId={client_id}"


class BackendConnection:
    """The socket to one backend; ``follow(prompt_id)`` gives that prompt's events."""

    def __init__(
        self,
        http: ComfyHttpClient,
        *,
        client_id: str | None = None,
        policy: ReconnectPolicy | None = None,
        open_timeout: float = 10.0,
        ping_interval: float | None = 20.0,
        ping_timeout: float | None = 20.0,
    ) -> None:
        self.http = http
        self.client_id = client_id or make_client_id(http.backend or http.base_url)
        self.url = websocket_url(http.base_url, self.client_id)
        self.policy = policy or ReconnectPolicy()
        self.open_timeout = open_timeout
        self.ping_interval = ping_interval
        self.ping_timeout = ping_timeout
        self.reconnects = 0
        self._feeds: dict[str, list[PromptFeed]] = {}
        self._socket: ClientConnection | None = None
        self._reader: asyncio.Task[None] | None = None
        self._running_prompt_id: str | None = None
        self._closing = False
        self._broken: ComfyError | None = None
        self._listeners: list[Callable[[Event], None]] = []
        self._waiting_check: asyncio.Task[None] | None = None
        self._queue_remaining: int | None = None

    async def __aenter__(self) -> BackendConnection:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()

    @property
    def connected(self) -> bool:
        return self._socket is not None and self._broken is None and not self._closing

    async def start(self) -> None:
        """Open the socket (ComfyUnavailable / ComfyTimeout at once if the backend is down)."""
        if self._reader is not None and not self._reader.done():
            return
        if _LIVE_CONNECTIONS.setdefault(self.client_id, self) is not self:
            raise RuntimeError(
                f"a BackendConnection with clientId {self.client_id} is already open in this "
                "process: share it instead of opening a second socket to the same backend"
            )
        self._closing, self._broken = False, None
        try:
            self._socket = await self._open()
        except ComfyError:
            _LIVE_CONNECTIONS.pop(self.client_id, None)
            raise
        self._reader = asyncio.create_task(self._read_forever(), name=f"comfy-ws {self.url}")

    async def aclose(self) -> None:
        self._closing = True
        if _LIVE_CONNECTIONS.get(self.client_id) is self:
            del _LIVE_CONNECTIONS[self.client_id]
        for task in (self._reader, self._waiting_check):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        if self._socket is not None:
            await self._socket.close()
        self._fail_all(ComfySocketClosed(f"the connection to {self.http.base_url} was closed"))

    def follow(
        self, prompt_id: str, *, timeout: float | None = None, check_backend: bool = True
    ) -> PromptFeed:
        """Register a follower now; iterate it to get events up to the end marker.

        With ``check_backend`` (a prompt submitted elsewhere, or earlier) the feed first
        looks the prompt up in ``/queue`` and ``/history``. Pass False when registering
        right before submitting it yourself. ``timeout`` bounds the whole follow.
        """
        if self._broken is not None:
            raise self._broken
        feed = PromptFeed(
            prompt_id,
            lookup_history=self._history_or_none,
            unregister=self._unregister,
            timeout=timeout,
            check_backend=self._resync_feed if check_backend else None,
        )
        # A prompt about to be submitted is not on the backend yet: resync must wait.
        feed.submitted = check_backend
        # A prompt submitted earlier may already have sent messages we never saw.
        feed.had_gap = check_backend
        self._feeds.setdefault(prompt_id, []).append(feed)
        return feed

    def add_listener(self, listener: Callable[[Event], None]) -> None:
        """Also hand every event (``status`` included) to ``listener``, in arrival order."""
        self._listeners.append(listener)

    def _unregister(self, feed: PromptFeed) -> None:
        feeds = self._feeds.get(feed.prompt_id, [])
        if feed in feeds:
            feeds.remove(feed)
        if not feeds:
            self._feeds.pop(feed.prompt_id, None)

    def _all_feeds(self) -> list[PromptFeed]:
        return [feed for feeds in self._feeds.values() for feed in feeds]

    def _fail_all(self, error: ComfyError) -> None:
        for feed in self._all_feeds():
            feed.fail(error)

    # -- socket ------------------------------------------------------------------------

    async def _open(self) -> ClientConnection:
        where = f"ComfyUI at {self.http.base_url}"
        try:
            socket = await connect(
                self.url,
                open_timeout=self.open_timeout,
                ping_interval=self.ping_interval,
                ping_timeout=self.ping_timeout,
                max_size=None,  # previews and big UI outputs must never kill the socket
                proxy=None,
            )
        except TimeoutError as exc:
            raise ComfyTimeout(f"{where}: the WebSocket did not open in time") from exc
        except InvalidStatus as exc:
            raise ComfyProtocolError(
                f"{where} refused the WebSocket upgrade on /ws: {exc}; is it ComfyUI?"
            ) from exc
        except (OSError, WebSocketException) as exc:
            raise ComfyUnavailable(
                f"{where} refused the WebSocket connection: is it running? (GET /ws: {exc})",
                backend=self.http.backend,
            ) from exc
        # Announce preview metadata first, so previews name their prompt (binary event 4).
        try:
            await socket.send(_FEATURE_FLAGS)
        except ConnectionClosed as exc:
            raise ComfyUnavailable(
                f"{where} closed the WebSocket right after opening it ({exc})",
                backend=self.http.backend,
            ) from exc
        return socket

    async def _read_forever(self) -> None:
        try:
            await self._read_and_reconnect()
        except Exception as exc:  # a bug here must not leave followers waiting forever
            logger.exception("WebSocket reader for %s crashed", self.http.base_url)
            self._broken = ComfyError(
                f"the WebSocket reader for {self.http.base_url} failed: {exc}"
            )
            self._fail_all(self._broken)

    async def _read_and_reconnect(self) -> None:
        while True:
            socket = self._socket
            assert socket is not None
            with contextlib.suppress(ConnectionClosed):
                async for message in socket:
                    self._receive(message)
            if self._closing:
                return
            logger.warning("WebSocket to %s dropped; reconnecting", self.http.base_url)
            for feed in self._all_feeds():
                feed.had_gap = True
            try:
                self._socket = await self._reconnect()
            except ComfySocketClosed as error:
                self._broken = error
                self._fail_all(error)
                return

    def _receive(self, message: str | bytes) -> None:
        try:
            event = (
                parse_text_frame(message)
                if isinstance(message, str)
                else parse_binary_frame(message)
            )
        except ComfyProtocolError:
            logger.exception("skipping a malformed WebSocket frame from %s", self.http.base_url)
            return
        self.dispatch(event)

    def dispatch(self, event: Event) -> None:
        """Route one event to the followers of its prompt."""
        event = self._attribute(event)
        for listener in self._listeners:
            try:
                listener(event)
            except Exception:  # someone else's bug must not stop the routing of events
                logger.exception("a WebSocket event listener failed on %r", event)
        prompt_id = event_prompt_id(event)
        if isinstance(event, Executing) and event.node is not None:
            self._running_prompt_id = prompt_id
        for feed in list(self._feeds.get(prompt_id or "", ())):
            feed.push(event)
        if isinstance(event, Executing) and event.is_end_marker:
            self._running_prompt_id = None
        if isinstance(event, Status):
            previous, self._queue_remaining = self._queue_remaining, event.queue_remaining
            if previous is None or event.queue_remaining < previous:
                self._schedule_waiting_check()

    def _schedule_waiting_check(self) -> None:
        """The queue shrank: a followed prompt that has not started may have been deleted
        (ComfyUI then sends nothing about it, ever), so look for it once more. ComfyUI
        sends a status for every change of its queue, so a queue that grew (a submit) or
        kept its size (a prompt moving from pending to running) cannot have lost one of
        ours: no check then."""
        waiting = any(f.submitted and not f.started for f in self._all_feeds())
        if waiting and (self._waiting_check is None or self._waiting_check.done()):
            self._waiting_check = asyncio.create_task(self._check_waiting_feeds())

    async def _check_waiting_feeds(self) -> None:
        # Feeds chosen before the snapshot: one submitted later may postdate it.
        waiting = [feed for feed in self._all_feeds() if feed.submitted and not feed.started]
        try:
            snapshot = await self.http.queue()
            for feed in waiting:
                await self._resync_feed(feed, snapshot, unless_started=True)
        except ComfyError as exc:  # the socket's own reconnect logic deals with outages
            logger.info("checking waiting prompts on %s failed: %s", self.http.base_url, exc)

    def _attribute(self, event: Event) -> Event:
        """Give prompt-less events (reconnect ``executing``, legacy previews) their prompt."""
        running = self._running_prompt_id
        if running is None:
            return event
        if isinstance(event, Executing) and event.prompt_id is None and event.node is not None:
            return Executing(node=event.node, prompt_id=running, display_node=event.node)
        if isinstance(event, PreviewImage) and event.prompt_id is None:
            metadata = {**(event.metadata or {}), "prompt_id": running}
            return PreviewImage(
                image_format=event.image_format, image=event.image, metadata=metadata
            )
        return event

    async def _reconnect(self) -> ClientConnection:
        loop = asyncio.get_running_loop()
        started, attempt = loop.time(), 0
        while (delay := self.policy.next_delay(attempt, loop.time() - started)) is not None:
            await asyncio.sleep(delay)
            attempt += 1
            socket: ClientConnection | None = None
            try:
                socket = await self._open()
                await self._resync_all()
            except ComfyError as exc:
                logger.info("reconnect attempt %d to %s failed: %s", attempt, self.url, exc)
                if socket is not None:
                    await socket.close()
                continue
            self.reconnects += 1
            self._queue_remaining = None  # the next status is compared with nothing
            return socket
        raise ComfySocketClosed(
            f"the WebSocket to ComfyUI at {self.http.base_url} could not be reopened within "
            f"{self.policy.budget} s: check that the backend is up, then follow the prompts again.",
            backend=self.http.backend,
        )

    # -- resynchronisation -------------------------------------------------------------

    async def _resync_all(self) -> None:
        submitted = [feed for feed in self._all_feeds() if feed.submitted]
        snapshot = await self.http.queue()
        self._running_prompt_id = snapshot.running_prompt_id
        for feed in submitted:
            await self._resync_feed(feed, snapshot)

    async def _resync_feed(
        self,
        feed: PromptFeed,
        snapshot: QueueSnapshot | None = None,
        *,
        unless_started: bool = False,
    ) -> None:
        """Queue first, then history: a prompt finishing in between is then in history.

        ``unless_started``: the socket may have delivered the prompt's messages while we
        were asking; if so, it is followed normally and needs no replay.
        """
        snapshot = snapshot or await self.http.queue()
        if snapshot.state_of(feed.prompt_id) is not None:
            return
        entry = await self.http.history(feed.prompt_id)
        if unless_started and feed.started:
            return
        if entry is not None:
            feed.replay(entry)
            return
        feed.fail(
            PromptNotFound(
                f"prompt {feed.prompt_id} is neither queued nor in the history of ComfyUI at "
                f"{self.http.base_url}: it was deleted or lost in a restart; submit it again.",
                prompt_id=feed.prompt_id,
                backend=self.http.backend,
            )
        )

    async def resync(self, feed: PromptFeed) -> None:
        """Look a followed prompt up again in ``/queue`` and ``/history``."""
        await self._resync_feed(feed)

    async def _history_or_none(self, prompt_id: str) -> HistoryEntry | None:
        return await self.http.history(prompt_id)
