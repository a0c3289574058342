"""Login throttling per address, on the function the login route calls."""

from console.db import console_engine
from console.security import add_user, authenticate
from console.settings import Settings

PASSWORD = "correct horse battery staple"


def test_failures_from_one_address_lock_it_out_for_every_account(tmp_path):
    engine = console_engine(f"sqlite:///{tmp_path / 'c.db'}")
    settings = Settings(secret_key="x", max_failures_per_address=3, max_failures_per_account=10)
    add_user(engine, "dana", "reviewer", PASSWORD)
    for name in ("x1", "x2", "x3"):
        assert authenticate(engine, settings, name, "nope", "10.0.0.9").staff is None
    blocked = authenticate(engine, settings, "dana", PASSWORD, "10.0.0.9")
    assert blocked.throttled and blocked.staff is None
    assert authenticate(engine, settings, "dana", PASSWORD, "10.0.0.10").staff.name == "dana"


def test_a_success_clears_the_account_failures(tmp_path):
    engine = console_engine(f"sqlite:///{tmp_path / 'c.db'}")
    settings = Settings(secret_key="x", max_failures_per_account=3)
    add_user(engine, "erin", "coordinator", PASSWORD)
    for _ in range(2):
        authenticate(engine, settings, "erin", "nope", "a")
    assert authenticate(engine, settings, "erin", PASSWORD, "a").staff.role == "coordinator"
    for _ in range(2):
        authenticate(engine, settings, "erin", "nope", "a")
    assert not authenticate(engine, settings, "erin", PASSWORD, "a").throttled
