"""Which condition a pair gets: the 36 Questions or the small-talk control.

Outside a study the condition is chosen by the people themselves (always the 36 Questions
unless they ask otherwise). A research study assigns conditions at random in *permuted
blocks*: each consecutive block of ``block_size`` enrolled pairs holds the two conditions in
equal numbers, in an order shuffled by a generator seeded from the study's seed and the block
number. The assignment is therefore balanced, unpredictable to participants, and can be
recomputed and audited from ``(seed, enrolment_number, block_size)``, which are recorded with
every session. Aron et al. (1997) compared the closeness tasks with matched small-talk tasks;
the control questions used here were written for this project (see ``docs/closeness.md``).
"""

from __future__ import annotations

import random
from dataclasses import asdict, dataclass
from typing import Any, Literal

from attunement.errors import InvalidInputError

__all__ = ["CONDITIONS", "Assignment", "Condition", "assign_condition", "chosen_condition"]

Condition = Literal["closeness", "small_talk"]
CONDITIONS: tuple[Condition, Condition] = ("closeness", "small_talk")


@dataclass(frozen=True)
class Assignment:
    """How a session's condition was decided, kept with the session for the record.

    ``method`` is ``"chosen"`` (by the participants) or ``"permuted_blocks"`` (random, in a
    study); for the latter ``seed``, ``enrolment_number`` and ``block_size`` reproduce it.
    """

    condition: Condition
    method: Literal["chosen", "permuted_blocks"] = "chosen"
    seed: int | None = None
    enrolment_number: int | None = None
    block_size: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Assignment:
        return cls(**data)


def chosen_condition(condition: str = "closeness") -> Assignment:
    """An assignment chosen by the participants (no randomisation)."""
    if condition not in CONDITIONS:
        raise InvalidInputError(
            f"unknown condition {condition!r}", hint="Use 'closeness' or 'small_talk'."
        )
    return Assignment(condition=condition)


def assign_condition(seed: int, enrolment_number: int, *, block_size: int = 4) -> Assignment:
    """The condition of the ``enrolment_number``-th pair (0-based) of a study with ``seed``.

    Within each block of ``block_size`` pairs, half get each condition, in a random order drawn
    from ``random.Random(f"{seed}:{block}")`` (deterministic across Python versions for string
    seeds). ``block_size`` must be a positive even number.
    """
    if block_size < 2 or block_size % 2:
        raise InvalidInputError(
            f"block size must be a positive even number, got {block_size}",
            hint="Use 2, 4 or 6: each block holds both conditions equally often.",
        )
    if enrolment_number < 0:
        raise InvalidInputError(f"enrolment number must be 0 or more, got {enrolment_number}")
    block, position = divmod(enrolment_number, block_size)
    order: list[Condition] = [CONDITIONS[i % 2] for i in range(block_size)]
    random.Random(f"{seed}:{block}").shuffle(order)
    return Assignment(
        condition=order[position],
        method="permuted_blocks",
        seed=seed,
        enrolment_number=enrolment_number,
        block_size=block_size,
    )
