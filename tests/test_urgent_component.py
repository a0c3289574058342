"""The NLU component: patterns override the intent; an unsure classifier-only guess gives way."""
from rasa.shared.nlu.training_data.message import Message

from nlp.urgent_component import URGENT_INTENT, UrgentSymptomDetectorComponent


def parsed(text, intent, confidence, second="not_covered"):
    message = Message(data={"text": text})
    message.set("intent", {"name": intent, "confidence": confidence})
    message.set(
        "intent_ranking",
        [{"name": intent, "confidence": confidence}, {"name": second, "confidence": 0.05}],
    )
    return message


def component():
    return UrgentSymptomDetectorComponent(
        {**UrgentSymptomDetectorComponent.get_default_config()}
    )


def test_patterns_override_whatever_the_classifier_said():
    [message] = component().process([parsed("I suddenly can't feel my legs", "greet", 0.99)])
    assert message.get("intent") == {"name": URGENT_INTENT, "confidence": 1.0}
    assert [e["value"] for e in message.get("entities")] == ["leg_weakness_numbness"]


def test_a_sure_classifier_alone_is_enough():
    [message] = component().process([parsed("something is very wrong with me", URGENT_INTENT, 0.97)])
    assert message.get("intent")["name"] == URGENT_INTENT


def test_an_unsure_classifier_guess_gives_way_to_the_next_intent():
    [message] = component().process(
        [parsed("is loss of bladder control a risk with this operation?", URGENT_INTENT, 0.6)]
    )
    assert message.get("intent")["name"] == "not_covered"
    assert message.get("classifier_intent")["name"] == URGENT_INTENT
