"""Simulated patients: concurrent scripted conversations over REST or socket.io, and
the latency statistics the report prints.

Each simulated user holds one conversation at a time and goes through the scripts in
turn (FAQ questions, then the whole callback form), with a new conversation id each
time. A user sends its next message when the reply has arrived and it has "read" it
(the think time), so N users are N patients typing at once.
"""

from __future__ import annotations

import asyncio
import json
import random
import time
import uuid
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence, Tuple

import aiohttp

TECHNICAL_PROBLEM = "technical problem"

FAQ_SCRIPT = [
    "hello",
    "what is balloon kyphoplasty?",
    "how long does the operation take?",
    "will I need a general anaesthetic?",
    "what are the risks?",
    "thank you",
]
FORM_SCRIPT = [
    "can someone call me back please",
    "Jane Smith",
    "07700 900123",
    "jane.smith@example.com",
    "Self-pay price",
    "Afternoon",
    "Yes, I agree",
    "Confirm",
]
SCRIPTS = [FAQ_SCRIPT, FORM_SCRIPT]
# socket.io has no end-of-reply marker: a reply is complete when no further bot
# message arrives for this long. Latency is measured to the last message.
SOCKETIO_QUIET_SECONDS = 0.3
REQUEST_TIMEOUT_SECONDS = 60


@dataclass
class Result:
    latencies: List[float] = field(default_factory=list)
    errors: int = 0
    error_kinds: Dict[str, int] = field(default_factory=dict)
    started: float = 0.0
    finished: float = 0.0

    def error(self, kind: str) -> None:
        self.errors += 1
        self.error_kinds[kind] = self.error_kinds.get(kind, 0) + 1

    @property
    def messages(self) -> int:
        return len(self.latencies)

    @property
    def seconds(self) -> float:
        return max(self.finished - self.started, 1e-9)

    def summary(self) -> Dict[str, float]:
        return {
            "messages": self.messages,
            "per_second": self.messages / self.seconds,
            "p50_ms": percentile(self.latencies, 50) * 1000,
            "p95_ms": percentile(self.latencies, 95) * 1000,
            "p99_ms": percentile(self.latencies, 99) * 1000,
            "errors": self.errors,
        }


def percentile(values: Sequence[float], pct: float) -> float:
    """Nearest-rank percentile; 0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(pct / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


def check_reply(texts: List[str], result: Result) -> bool:
    if not texts or not any(t.strip() for t in texts):
        result.error("empty reply")
        return False
    if any(TECHNICAL_PROBLEM in t for t in texts):
        result.error("technical-problem reply")
        return False
    return True


async def _think(think: Tuple[float, float]) -> None:
    low, high = think
    if high > 0:
        await asyncio.sleep(random.uniform(low, high))


async def rest_user(
    base_url: str, deadline: float, think: Tuple[float, float], result: Result, n: int
) -> None:
    # One connection per request, so that a round-robin proxy spreads each
    # conversation's messages over the instances.
    connector = aiohttp.TCPConnector(force_close=True)
    timeout = aiohttp.ClientTimeout(total=REQUEST_TIMEOUT_SECONDS)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        script_index = n
        while time.monotonic() < deadline:
            sender = f"bench-{uuid.uuid4().hex[:12]}"
            for text in SCRIPTS[script_index % len(SCRIPTS)]:
                if time.monotonic() >= deadline:
                    return
                start = time.perf_counter()
                try:
                    async with session.post(
                        base_url + "/webhooks/rest/webhook",
                        json={"sender": sender, "message": text},
                    ) as response:
                        if response.status != 200:
                            result.error(f"HTTP {response.status}")
                            continue
                        body = await response.json()
                except (aiohttp.ClientError, asyncio.TimeoutError) as error:
                    result.error(type(error).__name__)
                    continue
                elapsed = time.perf_counter() - start
                if check_reply([m.get("text") or "" for m in body], result):
                    result.latencies.append(elapsed)
                await _think(think)
            script_index += 1


class SocketIO:
    """The socket.io client side Rasa's channel needs, over one aiohttp websocket.

    python-socketio's own client needs aiohttp 3.10 or later for websockets, and
    Rasa 3.6 pins aiohttp 3.9; the Engine.IO 4 / Socket.IO 5 framing used here is
    small: "0" open, "40" connect, "42[...]" events, "2"/"3" ping and pong.
    """

    def __init__(self, session: aiohttp.ClientSession, base_url: str) -> None:
        self.session = session
        self.url = (
            base_url.replace("http", "ws", 1) + "/socket.io/?EIO=4&transport=websocket"
        )
        self.ws: Optional[aiohttp.ClientWebSocketResponse] = None

    async def connect(self) -> None:
        self.ws = await self.session.ws_connect(self.url)
        opened = await self._frame()
        if not opened.startswith("0"):
            raise ConnectionError(f"unexpected open frame {opened[:40]!r}")
        await self.ws.send_str("40")
        while not (await self._frame()).startswith("40"):
            pass

    async def emit(self, event: str, data: dict) -> None:
        await self.ws.send_str("42" + json.dumps([event, data]))

    async def next_event(self, timeout: float) -> Tuple[str, dict]:
        deadline = time.monotonic() + timeout
        while True:
            frame = await self._frame(max(deadline - time.monotonic(), 0.001))
            if frame.startswith("42"):
                event, *args = json.loads(frame[2:])
                return event, (args[0] if args else {})

    async def _frame(self, timeout: float = REQUEST_TIMEOUT_SECONDS) -> str:
        while True:
            message = await self.ws.receive(timeout=timeout)
            if message.type != aiohttp.WSMsgType.TEXT:
                raise ConnectionError(f"websocket {message.type.name}")
            if message.data == "2":  # the server's ping
                await self.ws.send_str("3")
                continue
            return message.data

    async def close(self) -> None:
        if self.ws is not None:
            await self.ws.close()


async def socketio_user(
    base_url: str, deadline: float, think: Tuple[float, float], result: Result, n: int
) -> None:
    script_index = n
    timeout = aiohttp.ClientTimeout(total=None)
    async with aiohttp.ClientSession(timeout=timeout) as session:
        while time.monotonic() < deadline:
            client = SocketIO(session, base_url)
            session_id = uuid.uuid4().hex
            try:
                await client.connect()
                await client.emit("session_request", {"session_id": session_id})
                for text in SCRIPTS[script_index % len(SCRIPTS)]:
                    if time.monotonic() >= deadline:
                        break
                    start = time.perf_counter()
                    await client.emit(
                        "user_uttered", {"message": text, "session_id": session_id}
                    )
                    texts: List[str] = []
                    last = start
                    wait = REQUEST_TIMEOUT_SECONDS
                    try:
                        while True:
                            event, data = await client.next_event(wait)
                            if event == "bot_uttered":
                                texts.append(data.get("text") or "")
                                last = time.perf_counter()
                                wait = SOCKETIO_QUIET_SECONDS
                    except asyncio.TimeoutError:
                        pass
                    if not texts:
                        result.error("no reply")
                        continue
                    if check_reply(texts, result):
                        result.latencies.append(last - start)
                    await _think(think)
            except Exception as error:  # refused, dropped socket, ...
                result.error(type(error).__name__)
                await asyncio.sleep(0.5)
            finally:
                try:
                    await client.close()
                except Exception:
                    pass
            script_index += 1


async def run_load(
    base_url: str,
    channel: str,
    users: int,
    seconds: float,
    think: Tuple[float, float],
) -> Result:
    user = rest_user if channel == "rest" else socketio_user
    result = Result()
    result.started = time.monotonic()
    deadline = result.started + seconds
    await asyncio.gather(
        *(user(base_url, deadline, think, result, n) for n in range(users))
    )
    result.finished = time.monotonic()
    return result


async def first_answer(
    base_url: str, timeout: float, text: str = "hello"
) -> Optional[float]:
    """Polls the REST channel until a message is answered; returns when it was."""
    deadline = time.monotonic() + timeout
    timeout_per_try = aiohttp.ClientTimeout(total=30)
    async with aiohttp.ClientSession(timeout=timeout_per_try) as session:
        while time.monotonic() < deadline:
            try:
                async with session.post(
                    base_url + "/webhooks/rest/webhook",
                    json={"sender": f"start-{uuid.uuid4().hex[:8]}", "message": text},
                ) as response:
                    if response.status == 200 and await response.json():
                        return time.monotonic()
            except (aiohttp.ClientError, asyncio.TimeoutError):
                pass
            await asyncio.sleep(0.2)
    return None
