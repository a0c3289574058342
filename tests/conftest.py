"""Shared fixtures: the real Rasa stack for end-to-end tests, started once per session."""
from __future__ import annotations

from pathlib import Path
from typing import Iterator

import pytest

from tests.support.servers import RestClient, start_action_server, start_rasa, write_endpoints


class Stack:
    def __init__(self, rasa_url: str, action_url: str, tracker_db: Path) -> None:
        self.rasa_url = rasa_url
        self.action_url = action_url
        self.tracker_db = tracker_db

    def client(self) -> RestClient:
        return RestClient(self.rasa_url)


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    workdir = tmp_path_factory.mktemp("stack")
    # Enquiries from these conversations go to a scratch database, never to var/.
    actions = start_action_server(
        workdir, env={"ENQUIRY_DB_URL": f"sqlite:///{workdir / 'enquiries.db'}"}
    )
    tracker_db = workdir / "tracker.db"
    endpoints = write_endpoints(workdir, actions.url, tracker_db)
    try:
        rasa = start_rasa(workdir, endpoints)
    except Exception:
        actions.stop()
        raise
    yield Stack(rasa.url, actions.url, tracker_db)
    rasa.stop()
    actions.stop()


@pytest.fixture
def client(stack: Stack) -> RestClient:
    return stack.client()
