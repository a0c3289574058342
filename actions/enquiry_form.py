"""The callback enquiry form: its validation, its questions, and what ends it.

``enquiry_form`` (domain.yml) asks for full_name, phone, email, hospital, enquiry_aim,
call_time, enquiry_consent and enquiry_confirmed. All of them have ``custom`` slot
mappings and are filled here:

* ``extract_<slot>`` takes the latest message as an answer only when the form asked
  for that slot and the message is a fresh reply to it. A message that is an
  interruption (stop, urgent symptoms, or a confident FAQ question that is not a valid
  answer) extracts nothing: Rasa then rejects the form, the rules answer the question
  or end the form, and the form asks its question again.
* ``validate_<slot>`` checks the answer with the pure helpers in
  ``actions/enquiry_fields.py`` and says what was wrong, with an example. After three
  invalid tries at one slot the form stops and the phone numbers are given.
* ``action_ask_<slot>`` asks each question, with buttons whose payload is the button's
  own text, so a channel without buttons shows numbered options and a typed
  ``/intent`` cannot answer for the user.
* On SMS and WhatsApp (the ``twilio`` channel) the sender id is the number the person
  writes from, so the phone question offers it ("Shall we call you on this
  number?"); "yes" fills the phone slot with it, "a different number" asks the
  usual question, and a typed number is taken as the answer either way.
* What happens when the form ends (storing, notifying staff, or giving the phone
  numbers) is in ``actions/handover.py``.

Log lines never carry a slot value or a message text.
"""

from __future__ import annotations

import functools
import logging
import re
from abc import ABC, abstractmethod
from datetime import datetime, timezone
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable, Dict, Iterable, List, Optional, Text, Tuple

import yaml
from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.enquiry_fields import (
    CALL_TIMES,
    EMAIL_EXAMPLE,
    ENQUIRY_AIMS,
    FIELD_LABELS,
    NAME_EXAMPLE,
    NO_EMAIL,
    choice_title,
    field_to_change,
    format_uk_phone,
    hospital_by_name,
    hospitals,
    match_choice,
    match_hospital,
    new_value_in_correction,
    normalise_name,
    normalise_uk_phone,
    option_number,
    parse_email,
    parse_yes_no,
    wants_change,
)
from actions.notifier import start_retry_in_background
from actions.settings import Settings, settings

logger = logging.getLogger(__name__)

FORM_NAME = "enquiry_form"
FORM_SLOTS = (
    "full_name",
    "phone",
    "email",
    "hospital",
    "enquiry_aim",
    "call_time",
    "enquiry_consent",
    "enquiry_confirmed",
)
# Bookkeeping slots: tries at the current question, why the form ended early, whether
# the summary is waiting for the field to change, and when consent was given.
FAILURES_SLOT = "enquiry_failures"
OUTCOME_SLOT = "enquiry_outcome"
STAGE_SLOT = "enquiry_stage"
CONSENT_AT_SLOT = "enquiry_consent_at"
HELPER_SLOTS = (FAILURES_SLOT, OUTCOME_SLOT, STAGE_SLOT, CONSENT_AT_SLOT)

OUTCOME_DECLINED = "declined"
OUTCOME_CANCELLED = "cancelled"
OUTCOME_TOO_MANY_TRIES = "too_many_tries"
OUTCOME_ERROR = "error"
STAGE_CHOOSE_FIELD = "choose_field"
# The person declined the number they write from and will type another one.
STAGE_OTHER_PHONE = "other_phone"
# Channels whose sender id is the person's phone number (Twilio: "+447700900123"
# for SMS, "whatsapp:+447700900123" for WhatsApp).
PHONE_SENDER_CHANNELS = frozenset({"twilio"})

MAX_TRIES = 3
# An FAQ question asked instead of an answer: confident enough to be a question,
# and not also a valid answer ("how much does it cost?" answers the aim question).
INTERRUPTION_CONFIDENCE = 0.8
# Stopping throws away everything typed so far, so an unsure guess of "stop" is read
# as an answer (and turned down if it is not one) unless it uses a word the form
# itself offers ("You can type stop at any time"). Held-out stop messages scored
# 0.68 and up, apart from "I want out" (0.44); "'; DROP TABLE ...", typed as a
# phone number, scored 0.47.
STOP_CONFIDENCE = 0.6
STOP_WORDS = re.compile(r"\b(?:stop|cancel|quit|exit)\b", re.IGNORECASE)
FAQ_INTENTS = frozenset(
    {
        "procedure",
        "recovery",
        "candidacy",
        "evidence",
        "risks",
        "background",
        "consultants",
        "contact",
        "not_covered",
        "ask_how_long",
        "bot_challenge",
        "out_of_scope",
    }
)
CONFIRM_OPTIONS = ("confirm", "change", "cancel")  # the summary's buttons, in order
CHANGEABLE_FIELDS = (
    "full_name",
    "phone",
    "email",
    "hospital",
    "enquiry_aim",
    "call_time",
)
FIELD_BUTTONS = {
    "full_name": "Name",
    "phone": "Phone number",
    "email": "Email",
    "hospital": "Hospital",
    "enquiry_aim": "Reason for the call",
    "call_time": "Best time to call",
}
MESSAGES_FILE = Path(__file__).resolve().parent / "data" / "enquiry_messages.yml"


# ---------------------------------------------------------------- messages


@lru_cache(maxsize=1)
def _messages() -> Dict[str, Dict[str, Any]]:
    with MESSAGES_FILE.open(encoding="utf-8") as handle:
        data = yaml.safe_load(handle)["responses"]
    return {name: variations[0] for name, variations in data.items()}


def buttons(titles: Iterable[str]) -> List[Dict[str, str]]:
    """Buttons whose payload is their own title: plain text, never an ``/intent``."""
    return [{"title": title, "payload": title} for title in titles]


def message(
    name: str, extra_buttons: Iterable[str] = (), **values: Any
) -> Dict[str, Any]:
    """A message from enquiry_messages.yml, filled in, as ``utter_message`` arguments."""
    entry = _messages()[name]
    titles = list(extra_buttons) + list(entry.get("buttons") or [])
    result: Dict[str, Any] = {"text": entry["text"].format(**values)}
    if titles:
        result["buttons"] = buttons(titles)
    return result


def say(
    dispatcher: CollectingDispatcher,
    name: str,
    extra_buttons: Iterable[str] = (),
    **values: Any,
) -> None:
    dispatcher.utter_message(**message(name, extra_buttons, **values))


def hospital_options(config: Settings) -> List[Dict[str, str]]:
    return hospitals(config.hospitals_file)


def asks_for_hospital(config: Settings) -> bool:
    return len(hospital_options(config)) > 1


def changeable_fields(config: Settings) -> Tuple[str, ...]:
    return tuple(
        f for f in CHANGEABLE_FIELDS if f != "hospital" or asks_for_hospital(config)
    )


def question(slot: str, tracker: Tracker, config: Settings) -> Dict[str, Any]:
    """The question for a slot, with its options as buttons."""
    if slot == "hospital":
        return message(
            "enquiry_ask_hospital", [h["name"] for h in hospital_options(config)]
        )
    if slot == "enquiry_aim":
        return message("enquiry_ask_enquiry_aim", [c.title for c in ENQUIRY_AIMS])
    if slot == "call_time":
        return message("enquiry_ask_call_time", [c.title for c in CALL_TIMES])
    if slot == "enquiry_consent":
        return message(
            "enquiry_ask_enquiry_consent", retention_days=config.retention_days
        )
    if slot == "phone":
        offered = offered_phone(tracker)
        if offered:
            return message("enquiry_ask_phone_offer", ending=phone_ending(offered))
    if slot == "enquiry_confirmed":
        if tracker.get_slot(STAGE_SLOT) == STAGE_CHOOSE_FIELD:
            return message(
                "enquiry_ask_field_to_change",
                [FIELD_BUTTONS[f] for f in changeable_fields(config)] + ["Cancel"],
            )
        return summary(tracker, config)
    return message(f"enquiry_ask_{slot}")


def sender_phone(tracker: Tracker) -> Optional[str]:
    """The UK number the person writes from (E.164), when the channel tells us."""
    if tracker.get_latest_input_channel() not in PHONE_SENDER_CHANNELS:
        return None
    sender = tracker.sender_id or ""
    if sender.lower().startswith("whatsapp:"):
        sender = sender[len("whatsapp:") :]
    return normalise_uk_phone(sender)


def offered_phone(tracker: Tracker) -> Optional[str]:
    """The sender's number, while the phone question offers it."""
    if tracker.get_slot(STAGE_SLOT) == STAGE_OTHER_PHONE:
        return None
    return sender_phone(tracker)


def phone_ending(e164: str) -> str:
    """The last three digits: enough to recognise a number, not to read it out."""
    return e164[-3:]


_DIFFERENT_NUMBER = re.compile(
    r"\b(?:different|another|other|new|not this|not that)\b", re.I
)


def phone_offer_reply(text: str) -> Optional[bool]:
    """True to be called on the offered number, False for a different one, None when
    the reply is neither. (A typed number is read before this.)"""
    if not isinstance(text, str) or text.strip().startswith("/"):
        return None
    if _DIFFERENT_NUMBER.search(text):
        return False
    return parse_yes_no(text)


def summary(tracker: Tracker, config: Settings) -> Dict[str, Any]:
    email = tracker.get_slot("email")
    return message(
        "enquiry_summary",
        full_name=tracker.get_slot("full_name"),
        phone=format_uk_phone(tracker.get_slot("phone") or ""),
        email=(
            _messages()["enquiry_no_email"]["text"]
            if email in (None, NO_EMAIL)
            else email
        ),
        hospital=chosen_hospital(tracker, config)["name"],
        enquiry_aim=choice_title(tracker.get_slot("enquiry_aim"), ENQUIRY_AIMS),
        call_time=choice_title(tracker.get_slot("call_time"), CALL_TIMES).lower(),
    )


def chosen_hospital(tracker: Tracker, config: Settings) -> Dict[str, str]:
    return hospital_by_name(tracker.get_slot("hospital"), config.hospitals_file)


def phone_numbers(hospital: Dict[str, str]) -> Dict[str, str]:
    return {
        "hospital_phone": hospital["phone"],
        "self_pay_phone": hospital.get("self_pay_phone") or hospital["phone"],
        "outpatient_phone": hospital.get("outpatient_phone") or hospital["phone"],
    }


def clear_slots() -> List[EventType]:
    """Forget everything the form collected (personal details are not kept in slots)."""
    return [SlotSet(slot, None) for slot in FORM_SLOTS + HELPER_SLOTS] + [
        SlotSet("requested_slot", None)
    ]


# ---------------------------------------------------------------- reading the message


def _events_since_latest_user_message(
    events: List[Dict[str, Any]],
) -> Optional[List[Dict[str, Any]]]:
    for index in range(len(events) - 1, -1, -1):
        if events[index].get("event") == "user":
            return events[index + 1 :]
    return None


def is_fresh_reply(events: List[Dict[str, Any]], form_name: str = FORM_NAME) -> bool:
    """Whether the latest user message is being read by the form for the first time.

    After an interruption (an FAQ answer, the urgent-care advice) the form runs again
    on the same message; that message was not an answer and must not be read as one.
    "Fresh" means nothing has replied to the message or rejected the form since; other
    events (slots, Rasa's ``user_featurization``) do not count.
    """
    since = _events_since_latest_user_message(events)
    if since is None:
        return False
    for event in since:
        kind = event.get("event")
        if kind in ("bot", "action_execution_rejected"):
            return False
        if kind == "action" and event.get("name") not in (form_name, "action_listen"):
            return False
    return True


def latest_user_timestamp(tracker: Tracker) -> Optional[float]:
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            return event.get("timestamp")
    return None


def _intent(tracker: Tracker) -> Tuple[Optional[str], float]:
    intent = (tracker.latest_message or {}).get("intent") or {}
    return intent.get("name"), float(intent.get("confidence") or 0.0)


def is_valid_answer(
    slot: str, text: str, config: Settings, phone_offered: bool = False
) -> bool:
    """Whether the text, read on its own, answers the question for ``slot``
    (``phone_offered``: the phone question offered the sender's number)."""
    if slot == "full_name":
        return normalise_name(text) is not None
    if slot == "phone":
        return normalise_uk_phone(text) is not None or (
            phone_offered and phone_offer_reply(text) is not None
        )
    if slot == "email":
        return parse_email(text) is not None
    if slot == "hospital":
        return match_hospital(text, config.hospitals_file) is not None
    if slot == "enquiry_aim":
        return match_choice(text, ENQUIRY_AIMS) is not None
    if slot == "call_time":
        return match_choice(text, CALL_TIMES) is not None
    if slot == "enquiry_consent":
        return parse_yes_no(text) is not None
    if slot == "enquiry_confirmed":
        return confirmation_reply(text, None, CHANGEABLE_FIELDS) is not None
    return False


def is_interruption(
    slot: str,
    text: str,
    intent: Optional[str],
    confidence: float,
    config: Settings,
    phone_offered: bool = False,
) -> bool:
    """Whether a message asked instead of answering should leave the form to the rules."""
    if intent == "urgent_symptom":
        return True
    if intent == "stop":
        if confidence < STOP_CONFIDENCE and not STOP_WORDS.search(text or ""):
            return False
        # "skip" / "no" to the email question is an answer, not a wish to stop; so is
        # "no" to the number offered.
        if slot == "phone" and phone_offered:
            return phone_offer_reply(text) is not False
        return not (slot == "email" and parse_email(text) == NO_EMAIL)
    if intent in FAQ_INTENTS and confidence >= INTERRUPTION_CONFIDENCE:
        return not is_valid_answer(slot, text, config, phone_offered)
    return False


def confirmation_reply(
    text: str, intent: Optional[str], fields: Tuple[str, ...]
) -> Optional[Tuple[str, Any]]:
    """What a reply to the summary means: ("confirm", None), ("choose", None),
    ("change", field), ("cancel", None), or None when it is none of these."""
    if not isinstance(text, str) or text.strip().startswith("/"):
        return None
    said = text.strip().lower()
    index = option_number(said, len(CONFIRM_OPTIONS))
    if index is not None:
        return (
            (CONFIRM_OPTIONS[index], None)
            if CONFIRM_OPTIONS[index] != "change"
            else ("choose", None)
        )
    if said.startswith("cancel"):
        return "cancel", None
    field_name = field_to_change(text, fields)
    answer = parse_yes_no(text, intent)
    if field_name and (wants_change(text) or answer is False or len(said.split()) <= 3):
        return "change", field_name
    if wants_change(text) or said in ("change a detail", "change"):
        return "choose", None
    if answer is True:
        return "confirm", None
    if answer is False:
        return "choose", None
    return None


def field_choice(text: str, fields: Tuple[str, ...]) -> Optional[str]:
    """The field picked from the "which detail?" buttons (by title, number or words)."""
    index = option_number(text, len(fields))
    if index is not None:
        return fields[index]
    said = text.strip().lower()
    for field_name in CHANGEABLE_FIELDS:
        if said == FIELD_BUTTONS[field_name].lower():
            return field_name
    return field_to_change(text, CHANGEABLE_FIELDS)


# ---------------------------------------------------------------- the form


def ignores_empty(
    validate: Callable[..., Dict[Text, Any]],
) -> Callable[..., Dict[Text, Any]]:
    """Skip empty candidates: Rasa also hands the validation action the slots emptied
    earlier in the same turn (by action_clear_enquiry), and an empty value is not an
    answer to judge or to count as a failed try."""

    @functools.wraps(validate)
    def wrapper(
        self: Any,
        value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> Dict[Text, Any]:
        if value is None:
            return {}
        return validate(self, value, dispatcher, tracker, domain)

    return wrapper


class ValidateEnquiryForm(FormValidationAction):
    """Extracts and validates the callback enquiry form's slots."""

    def name(self) -> Text:
        return "validate_enquiry_form"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        start_retry_in_background(settings())
        try:
            return await super().run(dispatcher, tracker, domain)
        except Exception as exc:
            # Raising would make Rasa log the action server's error reply, which
            # quotes the tracker (and so the user's details). End the form instead.
            logger.error("Validating the enquiry form failed: %s", type(exc).__name__)
            return [
                SlotSet(OUTCOME_SLOT, OUTCOME_ERROR),
                SlotSet("requested_slot", None),
            ]

    async def required_slots(
        self,
        domain_slots: List[Text],
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> List[Text]:
        if tracker.get_slot(OUTCOME_SLOT):
            return []  # declined, cancelled or too many tries: the form ends here
        if asks_for_hospital(settings()):
            return list(domain_slots)
        return [slot for slot in domain_slots if slot != "hospital"]

    # ------------------------------------------------------------ extraction

    def _answer(self, slot: str, tracker: Tracker) -> Dict[Text, Any]:
        """The reply to the question at ``slot``: the whole message, unless it is an
        interruption (an FAQ, urgent symptoms, "stop") that the form lets through.

        Every slot is read this way; its ``validate_<slot>`` does the parsing.
        rasa-sdk looks for ``extract_<slot>`` methods, which are made from this one
        below the class.
        """
        if tracker.get_slot("requested_slot") != slot or not is_fresh_reply(
            tracker.events, self.form_name()
        ):
            return {}
        text = (tracker.latest_message or {}).get("text") or ""
        intent, confidence = _intent(tracker)
        phone_offered = slot == "phone" and offered_phone(tracker) is not None
        if is_interruption(slot, text, intent, confidence, settings(), phone_offered):
            logger.debug("Message at %s is an interruption (intent %s)", slot, intent)
            return {}
        return {slot: text}

    # ------------------------------------------------------------ validation

    def _valid(self, slot: str, value: Any, **more: Any) -> Dict[Text, Any]:
        return {slot: value, FAILURES_SLOT: 0, **more}

    def _invalid(
        self,
        slot: str,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        reply: Dict[str, Any],
    ) -> Dict[Text, Any]:
        failures = int(tracker.get_slot(FAILURES_SLOT) or 0) + 1
        logger.info("Invalid answer at %s (try %d of %d)", slot, failures, MAX_TRIES)
        if failures >= MAX_TRIES:
            label = (
                FIELD_LABELS.get(slot, "answer")
                if slot not in ("enquiry_consent", "enquiry_confirmed")
                else "answer"
            )
            say(dispatcher, "enquiry_too_many_tries", field=label)
            return {slot: None, FAILURES_SLOT: 0, OUTCOME_SLOT: OUTCOME_TOO_MANY_TRIES}
        dispatcher.utter_message(**reply)
        return {slot: None, FAILURES_SLOT: failures}

    @ignores_empty
    def validate_full_name(
        self,
        value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> Dict[Text, Any]:
        name = normalise_name(value)
        if name:
            return self._valid("full_name", name)
        return self._invalid(
            "full_name",
            dispatcher,
            tracker,
            message("enquiry_wrong_full_name", example=NAME_EXAMPLE),
        )

    @ignores_empty
    def validate_phone(
        self,
        value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> Dict[Text, Any]:
        phone = normalise_uk_phone(value)
        if phone:
            return self._valid("phone", phone, **{STAGE_SLOT: None})
        offered = offered_phone(tracker)
        if offered is None:
            return self._invalid(
                "phone", dispatcher, tracker, message("enquiry_wrong_phone")
            )
        answer = phone_offer_reply(value)
        if answer is True:
            logger.info("Phone number: the one the person writes from")
            return self._valid("phone", offered, **{STAGE_SLOT: None})
        if answer is False:
            # Not a failed try: the form now asks for the number to call.
            return {"phone": None, STAGE_SLOT: STAGE_OTHER_PHONE}
        return self._invalid(
            "phone", dispatcher, tracker, message("enquiry_wrong_phone_offer")
        )

    @ignores_empty
    def validate_email(
        self,
        value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> Dict[Text, Any]:
        email = parse_email(value)
        if email:
            return self._valid("email", email)
        return self._invalid(
            "email",
            dispatcher,
            tracker,
            message("enquiry_wrong_email", example=EMAIL_EXAMPLE),
        )

    @ignores_empty
    def validate_hospital(
        self,
        value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> Dict[Text, Any]:
        config = settings()
        hospital = match_hospital(value, config.hospitals_file)
        if hospital:
            return self._valid("hospital", hospital)
        names = [h["name"] for h in hospital_options(config)]
        return self._invalid(
            "hospital", dispatcher, tracker, message("enquiry_wrong_hospital", names)
        )

    @ignores_empty
    def validate_enquiry_aim(
        self,
        value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> Dict[Text, Any]:
        aim = match_choice(value, ENQUIRY_AIMS)
        if aim:
            return self._valid("enquiry_aim", aim)
        titles = [c.title for c in ENQUIRY_AIMS]
        return self._invalid(
            "enquiry_aim",
            dispatcher,
            tracker,
            message("enquiry_wrong_enquiry_aim", titles),
        )

    @ignores_empty
    def validate_call_time(
        self,
        value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> Dict[Text, Any]:
        call_time = match_choice(value, CALL_TIMES)
        if call_time:
            return self._valid("call_time", call_time)
        titles = [c.title for c in CALL_TIMES]
        return self._invalid(
            "call_time", dispatcher, tracker, message("enquiry_wrong_call_time", titles)
        )

    @ignores_empty
    def validate_enquiry_consent(
        self,
        value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> Dict[Text, Any]:
        intent, confidence = _intent(tracker)
        answer = parse_yes_no(
            value, intent if confidence >= INTERRUPTION_CONFIDENCE else None
        )
        if answer is True:
            timestamp = latest_user_timestamp(tracker)
            given_at = (
                datetime.fromtimestamp(timestamp, timezone.utc)
                if timestamp
                else datetime.now(timezone.utc)
            )
            return self._valid(
                "enquiry_consent", True, **{CONSENT_AT_SLOT: given_at.isoformat()}
            )
        if answer is False:
            logger.info("Consent declined; nothing will be stored")
            return self._valid(
                "enquiry_consent", False, **{OUTCOME_SLOT: OUTCOME_DECLINED}
            )
        return self._invalid(
            "enquiry_consent",
            dispatcher,
            tracker,
            message("enquiry_wrong_enquiry_consent"),
        )

    @ignores_empty
    def validate_enquiry_confirmed(
        self,
        value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> Dict[Text, Any]:
        config = settings()
        fields = changeable_fields(config)
        intent, confidence = _intent(tracker)
        text = value if isinstance(value, str) else ""
        if tracker.get_slot(STAGE_SLOT) == STAGE_CHOOSE_FIELD:
            picked = field_choice(text, fields)
            reply = (
                ("change", picked)
                if picked
                else confirmation_reply(text, None, CHANGEABLE_FIELDS)
            )
        else:
            confident_intent = intent if confidence >= INTERRUPTION_CONFIDENCE else None
            reply = confirmation_reply(text, confident_intent, CHANGEABLE_FIELDS)
        if reply is None:
            return self._invalid(
                "enquiry_confirmed",
                dispatcher,
                tracker,
                message("enquiry_wrong_enquiry_confirmed"),
            )
        kind, field_name = reply
        if kind == "confirm":
            return self._valid("enquiry_confirmed", True, **{STAGE_SLOT: None})
        if kind == "cancel":
            return self._valid(
                "enquiry_confirmed",
                None,
                **{OUTCOME_SLOT: OUTCOME_CANCELLED, STAGE_SLOT: None},
            )
        if kind == "choose":
            return self._valid(
                "enquiry_confirmed", None, **{STAGE_SLOT: STAGE_CHOOSE_FIELD}
            )
        if field_name == "hospital" and not asks_for_hospital(config):
            say(
                dispatcher,
                "enquiry_only_one_hospital",
                hospital=chosen_hospital(tracker, config)["name"],
            )
            return self._valid("enquiry_confirmed", None, **{STAGE_SLOT: None})
        # A new value given with the change ("change my phone to ...") is taken at
        # once; otherwise the field is emptied and the form asks for it again.
        new_value = new_value_in_correction(field_name, text)
        logger.info(
            "Changing %s (%s)",
            field_name,
            "value given" if new_value else "asking again",
        )
        return self._valid(
            "enquiry_confirmed", None, **{field_name: new_value, STAGE_SLOT: None}
        )


def _extractor(slot: str) -> Callable[..., Dict[Text, Any]]:
    def extract(
        self: ValidateEnquiryForm,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> Dict[Text, Any]:
        return self._answer(slot, tracker)

    extract.__name__ = extract.__qualname__ = f"extract_{slot}"
    return extract


for _slot in FORM_SLOTS:
    setattr(ValidateEnquiryForm, f"extract_{_slot}", _extractor(_slot))


# ---------------------------------------------------------------- questions


class AskEnquiryQuestion(Action, ABC):
    """Asks the form's question for one slot (the form calls ``action_ask_<slot>``).

    For ``enquiry_confirmed`` the question is the summary of everything entered, or
    "which detail?" after "change".
    """

    slot: str = ""

    @abstractmethod
    def name(self) -> Text: ...

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        dispatcher.utter_message(**question(self.slot, tracker, settings()))
        return []


def _ask_action(slot: str) -> type:
    # One concrete class per slot, because rasa-sdk registers every non-abstract
    # Action subclass it finds; the abstract base itself is skipped.
    def name(self) -> Text:
        return f"action_ask_{slot}"

    class_name = "Ask" + "".join(part.title() for part in slot.split("_"))
    return type(class_name, (AskEnquiryQuestion,), {"slot": slot, "name": name})


# Held here because a class's __subclasses__() keeps only weak references, and
# rasa-sdk finds the actions through it.
ASK_ACTIONS = {slot: _ask_action(slot) for slot in FORM_SLOTS}
