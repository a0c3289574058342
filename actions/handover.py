"""The hand-over to staff at the end of the callback enquiry form.

``action_submit_enquiry`` (the submit rule) stores a confirmed enquiry exactly once,
tells the user the reference and what happens next, and has staff notified; for a
declined, cancelled or failed form it stores nothing and gives the phone numbers.
``action_stop_enquiry`` (the stop rule) ends the form without storing anything, and
``action_clear_enquiry`` starts each enquiry from empty slots. Every one of them
clears the personal slots it leaves behind. Log lines never carry a personal detail.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timezone
from typing import List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.enquiry_fields import CALL_TIMES, NO_EMAIL, choice_title, format_uk_phone
from actions.enquiry_form import (
    CONSENT_AT_SLOT,
    OUTCOME_DECLINED,
    OUTCOME_ERROR,
    OUTCOME_SLOT,
    OUTCOME_TOO_MANY_TRIES,
    chosen_hospital,
    clear_slots,
    latest_user_timestamp,
    phone_numbers,
    say,
)
from actions.enquiry_spool import spool_retry
from actions.enquiry_store import NewEnquiry, idempotency_key, new_reference
from actions.notifier import outbox_worker, start_retry_in_background
from actions.settings import settings

logger = logging.getLogger(__name__)


class ClearEnquiry(Action):
    """Starts every enquiry from empty slots, whatever an earlier, abandoned one left."""

    def name(self) -> Text:
        return "action_clear_enquiry"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        start_retry_in_background(settings())
        return clear_slots()


class StopEnquiry(Action):
    """The user said stop or cancel inside the form: nothing is stored."""

    def name(self) -> Text:
        return "action_stop_enquiry"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        config = settings()
        logger.info("Enquiry form stopped by the user; nothing stored")
        say(dispatcher, "enquiry_cancelled")
        say(
            dispatcher,
            "enquiry_phone_numbers",
            **phone_numbers(chosen_hospital(tracker, config)),
        )
        return clear_slots()


class SubmitEnquiry(Action):
    """Ends the form: stores a confirmed enquiry once, or explains why nothing was stored."""

    def name(self) -> Text:
        return "action_submit_enquiry"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        config = settings()
        hospital = chosen_hospital(tracker, config)
        numbers = phone_numbers(hospital)
        outcome = tracker.get_slot(OUTCOME_SLOT)
        complete = (
            tracker.get_slot("enquiry_confirmed") is True
            and tracker.get_slot("enquiry_consent") is True
            and all(
                tracker.get_slot(s)
                for s in ("full_name", "phone", "email", "enquiry_aim", "call_time")
            )
        )
        if outcome or not complete:
            logger.info(
                "Enquiry form ended without a submission (%s)", outcome or "incomplete"
            )
            if outcome == OUTCOME_DECLINED:
                say(dispatcher, "enquiry_not_stored")
            elif outcome == OUTCOME_ERROR:
                say(dispatcher, "enquiry_store_failed", **numbers)
            elif outcome != OUTCOME_TOO_MANY_TRIES:  # that reply was given by the form
                say(dispatcher, "enquiry_cancelled")
            say(dispatcher, "enquiry_phone_numbers", **numbers)
            return clear_slots()

        enquiry = self._enquiry(tracker, hospital["name"])
        retry = spool_retry(config.spool_dir, config.db_url, config.spool_retry_seconds)
        details = dict(
            call_time=choice_title(enquiry.call_time, CALL_TIMES).lower(),
            phone=format_uk_phone(enquiry.phone_e164),
            **numbers,
        )
        try:
            worker = await outbox_worker(config)
            stored = await worker.store.asubmit(enquiry, config.notifiers)
        except Exception as exc:
            logger.error("Could not store an enquiry: %s", type(exc).__name__)
            # Keep it on disk and store it when the database is back, rather than
            # asking a worried patient to start again on the phone.
            try:
                reference = new_reference()
                await asyncio.to_thread(retry.spool.put, enquiry, reference)
            except OSError as spool_exc:
                logger.error("Could not spool an enquiry: %s", type(spool_exc).__name__)
                say(dispatcher, "enquiry_store_failed", **numbers)
                return clear_slots()
            say(dispatcher, "enquiry_queued", reference=reference, **details)
            retry.ensure_running()
            return clear_slots()

        say(dispatcher, "enquiry_submitted", reference=stored.reference, **details)
        retry.ensure_running()  # anything spooled earlier goes in now the database is up
        if config.notifiers:
            worker.deliver_soon()  # this one and anything still waiting in the outbox
            worker.ensure_retry_loop()
        else:
            logger.warning(
                "Enquiry %s stored, but no staff notifier is configured",
                stored.reference,
            )
        return clear_slots()

    @staticmethod
    def _enquiry(tracker: Tracker, hospital_name: str) -> NewEnquiry:
        confirmed_at = latest_user_timestamp(tracker)
        consent_at = tracker.get_slot(CONSENT_AT_SLOT)
        email = tracker.get_slot("email")
        return NewEnquiry(
            idempotency_key=idempotency_key(tracker.sender_id, confirmed_at),
            channel=tracker.get_latest_input_channel(),
            conversation_id=tracker.sender_id,
            full_name=tracker.get_slot("full_name"),
            phone_e164=tracker.get_slot("phone"),
            email=None if email == NO_EMAIL else email,
            hospital=hospital_name,
            enquiry_aim=tracker.get_slot("enquiry_aim"),
            call_time=tracker.get_slot("call_time"),
            consent_at=(
                datetime.fromisoformat(consent_at)
                if consent_at
                else datetime.now(timezone.utc)
            ),
        )
