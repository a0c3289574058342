"""The overview's health panel: what each Rasa instance's readiness check says.

A tracker store that fails is the fault staff most need to see. Rasa on its own
would keep such conversations in memory without a word; ``infra.failures`` makes it
fail loudly instead, and ``/webhooks/health/ready`` (infra/health.py) names the store
until it works again. The console asks each instance in CONSOLE_RASA_READY_URLS.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any, Dict, Iterable, List

import aiohttp

TIMEOUT_SECONDS = 2.0


def describe(url: str, status: int, body: str) -> Dict[str, Any]:
    """One instance's line in the panel, from its readiness answer."""
    try:
        data = json.loads(body)
    except ValueError:
        data = None
    if not isinstance(data, dict):
        return {
            "url": url,
            "state": "unknown",
            "problems": [f"answered HTTP {status} without a readiness report"],
        }
    problems = [str(p) for p in data.get("problems") or [] if p]
    if status == 200 and data.get("status") == "ready":
        return {"url": url, "state": "ready", "problems": []}
    return {
        "url": url,
        "state": "not ready",
        "problems": problems or [f"answered HTTP {status}"],
    }


async def _check(session: aiohttp.ClientSession, url: str) -> Dict[str, Any]:
    try:
        async with session.get(url) as reply:
            return describe(url, reply.status, await reply.text())
    except (aiohttp.ClientError, asyncio.TimeoutError, OSError) as error:
        return {
            "url": url,
            "state": "unreachable",
            "problems": [f"no answer ({type(error).__name__})"],
        }


async def instance_health(urls: Iterable[str]) -> List[Dict[str, Any]]:
    """Every instance's state, asked at the same time, each within two seconds."""
    timeout = aiohttp.ClientTimeout(total=TIMEOUT_SECONDS)
    async with aiohttp.ClientSession(timeout=timeout) as session:
        return list(await asyncio.gather(*(_check(session, url) for url in urls)))
