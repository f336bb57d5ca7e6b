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
from attunement.closeness.codes import (
    CODE_ALPHABET,
    CODE_LENGTH,
    new_join_code,
    normalise_join_code,
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

__all__ = [
    "CODE_ALPHABET",
    "CODE_LENGTH",
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
    "new_join_code",
    "next_question",
    "next_set",
    "normalise_join_code",
    "protocol_seconds",
    "record_ios",
    "set_timer",
    "start_eye_contact",
    "start_session",
]
