"""The enquiry spool on its own: nothing is lost, nothing is stored twice."""
from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

from actions.enquiry_spool import EnquirySpool
from actions.enquiry_store import EnquiryStore, NewEnquiry


def enquiry(key: str = "k1") -> NewEnquiry:
    return NewEnquiry(
        idempotency_key=key,
        channel="rest",
        conversation_id="c1",
        full_name="Jane Smith",
        phone_e164="+447700900123",
        email=None,
        hospital="Spire Cambridge Lea Hospital",
        enquiry_aim="self_pay_price",
        call_time="afternoon",
        consent_at=datetime(2026, 11, 24, 10, 0, tzinfo=timezone.utc),
    )


def test_spooled_enquiries_are_stored_once_with_their_reference(tmp_path: Path) -> None:
    spool = EnquirySpool(tmp_path / "spool")
    spool.put(enquiry("k1"), "KY-AAAAAA")
    spool.put(enquiry("k1"), "KY-AAAAAA")  # the same submission again overwrites
    spool.put(enquiry("k2"), "KY-BBBBBB")
    assert len(spool.pending()) == 2

    store = EnquiryStore(f"sqlite:///{tmp_path / 'enquiries.db'}")
    assert spool.drain(store, ()) == 2
    assert spool.pending() == []
    assert store.count() == 2
    stored = store.get("KY-AAAAAA")
    assert stored and stored["full_name"] == "Jane Smith"
    assert stored["consent_at"].replace(tzinfo=timezone.utc) == enquiry().consent_at

    # Stored already (for example by another action server): the key makes it a no-op.
    spool.put(enquiry("k2"), "KY-BBBBBB")
    assert spool.drain(store, ()) == 1 and store.count() == 2


def test_a_database_error_keeps_the_file(tmp_path: Path) -> None:
    spool = EnquirySpool(tmp_path / "spool")
    spool.put(enquiry(), "KY-CCCCCC")

    class Down:
        def submit(self, *args, **kwargs):
            raise ConnectionError("database down")

    try:
        spool.drain(Down(), ())  # type: ignore[arg-type]
    except ConnectionError:
        pass
    assert len(spool.pending()) == 1


def test_an_unreadable_file_is_set_aside_not_deleted(tmp_path: Path) -> None:
    spool = EnquirySpool(tmp_path / "spool")
    spool.directory.mkdir()
    (spool.directory / "broken.json").write_text("{not json")
    store = EnquiryStore(f"sqlite:///{tmp_path / 'enquiries.db'}")
    assert spool.drain(store, ()) == 0
    assert (spool.directory / "broken.unreadable").exists()
