"""A round-robin TCP proxy: each new connection goes to the next backend in turn.

Enough for the benchmark's two-instance set-up: the REST client opens one connection
per request, so consecutive messages of one conversation land on different Rasa
instances (the case the Redis lock exists for), and a socket.io websocket stays on
the instance it was opened on, as behind a real load balancer.

    python -m bench.proxy --port 5000 http://127.0.0.1:5005 http://127.0.0.1:5006
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
from typing import List, Tuple
from urllib.parse import urlsplit


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while True:
            data = await reader.read(65536)
            if not data:
                break
            writer.write(data)
            await writer.drain()
    except (ConnectionError, asyncio.CancelledError):
        pass
    finally:
        try:
            writer.close()
        except Exception:
            pass


class RoundRobinProxy:
    def __init__(self, backends: List[Tuple[str, int]]) -> None:
        self.backends = backends
        self._next = itertools.cycle(range(len(backends)))
        self.connections = [0] * len(backends)
        self.server: asyncio.AbstractServer = None  # type: ignore[assignment]

    async def _handle(
        self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter
    ) -> None:
        index = next(self._next)
        host, port = self.backends[index]
        try:
            backend_reader, backend_writer = await asyncio.open_connection(host, port)
        except OSError:
            client_writer.close()
            return
        self.connections[index] += 1
        await asyncio.gather(
            _pipe(client_reader, backend_writer), _pipe(backend_reader, client_writer)
        )

    async def start(self, host: str, port: int) -> None:
        self.server = await asyncio.start_server(self._handle, host, port)

    async def stop(self) -> None:
        self.server.close()
        await self.server.wait_closed()


def backend(url: str) -> Tuple[str, int]:
    parts = urlsplit(url)
    return parts.hostname or "127.0.0.1", parts.port or 80


async def _main(args: argparse.Namespace) -> None:
    proxy = RoundRobinProxy([backend(url) for url in args.backends])
    await proxy.start(args.host, args.port)
    print(f"round-robin proxy on {args.host}:{args.port} -> {', '.join(args.backends)}")
    await asyncio.Event().wait()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("backends", nargs="+")
    asyncio.run(_main(parser.parse_args()))
