"""The live 36 Questions session (Aron et al., 1997) as pure domain logic.

No web and no database here: a session is a frozen :class:`SessionState` changed only by
transition functions, with a :class:`Clock` for the per-set timers. See ``docs/closeness.md``.
"""

from attunement.closeness.assignment import (
    CONDITIONS,
    Assignment,
    Condition,
    assign_condition,
    chosen_condition,
)
from attunement.closeness.clock import Clock, ManualClock, SystemClock, protocol_seconds
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
    "SystemClock",
    "Timer",
    "assign_condition",
    "chosen_condition",
    "eye_contact_timer",
    "finish_session",
    "join_session",
    "next_question",
    "next_set",
    "protocol_seconds",
    "record_ios",
    "set_timer",
    "start_eye_contact",
    "start_session",
]
