"""The live 36 Questions session (Aron et al., 1997).

A session is a frozen :class:`SessionState` changed only by
transition functions, with a :class:`Clock` for the per-set timers. :mod:`.stored` keeps live
sessions in the database (the only part that touches it). See ``docs/closeness.md``.
"""

from attunement.closeness.assignment import (
    CONDITIONS,
    Assignment,
    Condition,
    assign_condition,
    chosen_condition,
)
from attunement.closeness.clock import Clock, ManualClock, SystemClock, protocol_seconds
from attunement.closeness.protocol import (
    current_question,
    question_sets,
    session_plan,
    thirty_six_questions,
)
from attunement.closeness.session import (
    IOS_MAX,
    IOS_MIN,
    Event,
    Moment,
    Phase,
    SessionPlan,
    SessionState,
    Timer,
    eye_contact_timer,
    finish_session,
    join_session,
    next_question,
    next_set,
    record_ios,
    set_timer,
    start_eye_contact,
    start_session,
)
from attunement.closeness.stored import (
    StoredSession,
    act,
    create_live_session,
    join_live_session,
    participant_session,
    sessions_of,
)

__all__ = [
    "CONDITIONS",
    "IOS_MAX",
    "IOS_MIN",
    "Assignment",
    "Clock",
    "Condition",
    "Event",
    "ManualClock",
    "Moment",
    "Phase",
    "SessionPlan",
    "SessionState",
    "StoredSession",
    "SystemClock",
    "Timer",
    "act",
    "assign_condition",
    "chosen_condition",
    "create_live_session",
    "current_question",
    "eye_contact_timer",
    "finish_session",
    "join_live_session",
    "join_session",
    "next_question",
    "next_set",
    "participant_session",
    "protocol_seconds",
    "question_sets",
    "record_ios",
    "session_plan",
    "sessions_of",
    "set_timer",
    "start_eye_contact",
    "start_session",
    "thirty_six_questions",
]
