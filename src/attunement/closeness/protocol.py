"""The 36 Questions protocol (from :mod:`attunement.instruments`) as a session sees it."""

from __future__ import annotations

from attunement.closeness.assignment import Condition
from attunement.closeness.session import SessionPlan, SessionState
from attunement.instruments import load_protocol
from attunement.instruments.schema import Protocol, Question, QuestionSet

__all__ = ["current_question", "question_sets", "session_plan", "thirty_six_questions"]


def thirty_six_questions() -> Protocol:
    """The protocol of Aron et al. (1997) with its small-talk control sets."""
    return load_protocol("36_questions")


def question_sets(protocol: Protocol, condition: Condition) -> tuple[QuestionSet, ...]:
    """The closeness sets, or the small-talk control sets."""
    return protocol.control_sets if condition == "small_talk" else protocol.sets


def session_plan(protocol: Protocol, condition: Condition) -> SessionPlan:
    """Set sizes, minutes per set and eye-contact minutes of a session in ``condition``."""
    ending = protocol.optional_ending
    return SessionPlan(
        set_sizes=tuple(len(s.questions) for s in question_sets(protocol, condition)),
        minutes_per_set=float(protocol.procedure.minutes_per_set),
        eye_contact_minutes=float(ending.minutes) if ending else 4.0,
    )


def current_question(protocol: Protocol, state: SessionState) -> Question:
    """The question now showing (meaningful while the session is at its questions)."""
    sets = question_sets(protocol, state.condition)
    return sets[state.set_index].questions[state.question_index]
