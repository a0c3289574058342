"""nlp.intent_override: a rule's intent goes on top, and DIET's guess is kept for review."""
from rasa.shared.nlu.training_data.message import Message

from nlp.intent_override import CLASSIFIER_INTENT_KEY, override_intent


def _classified(text: str) -> Message:
    message = Message(data={"text": text})
    message.set("intent", {"name": "procedure_duration", "confidence": 0.6})
    message.set(
        "intent_ranking",
        [
            {"name": "procedure_duration", "confidence": 0.6},
            {"name": "urgent_symptom", "confidence": 0.3},
            {"name": "greet", "confidence": 0.1},
        ],
    )
    return message


def test_the_rule_intent_is_certain_and_first_without_a_second_copy_in_the_ranking():
    message = _classified("my legs have gone numb")
    override_intent(message, "urgent_symptom")
    assert message.get("intent") == {"name": "urgent_symptom", "confidence": 1.0}
    names = [entry["name"] for entry in message.get("intent_ranking")]
    assert names == ["urgent_symptom", "procedure_duration", "greet"]


def test_the_classifier_guess_is_kept_and_shown_in_the_output():
    message = _classified("wie lange dauert es")
    override_intent(message, "other_language")
    assert message.get(CLASSIFIER_INTENT_KEY) == {"name": "procedure_duration", "confidence": 0.6}
    assert CLASSIFIER_INTENT_KEY in message.as_dict_nlu()


def test_a_message_with_no_classification_yet_still_gets_the_intent():
    message = Message(data={"text": "hello"})
    override_intent(message, "other_language")
    assert [e["name"] for e in message.get("intent_ranking")] == ["other_language"]
    assert message.get(CLASSIFIER_INTENT_KEY) == {}
