"""The daily practices attunement offers, each with what it is for and the evidence behind it.

The process model of intimacy (Reis & Shaver, 1988) names two things partners can practise:
disclosing what matters to them, and responding so the other feels understood, validated and
cared for. Laurenceau, Barrett & Pietromonaco (1998) found, in diaries kept right after
interactions, that intimacy reflected both self-disclosure and partner disclosure, with
perceived partner responsiveness a partial mediator. The practices below turn those findings
into small routines. Evidence marked ``verified=False`` was not checked against the original
paper (see ``/work/shared/science.md`` and ``docs/practices.md``).
"""

from __future__ import annotations

from dataclasses import dataclass

from attunement.errors import NotFoundError

__all__ = ["PRACTICES", "Evidence", "Practice", "get_practice", "list_practices"]


@dataclass(frozen=True)
class Evidence:
    """One source behind a practice, and what it found (in plain words)."""

    citation: str
    finding: str
    verified: bool


@dataclass(frozen=True)
class Practice:
    """A small routine: what to do, about how long it takes, and why."""

    id: str
    name: str
    summary: str
    steps: tuple[str, ...]
    minutes: int
    evidence: tuple[Evidence, ...]


REIS_SHAVER_1988 = Evidence(
    citation="Reis, H. T., & Shaver, P. (1988). Intimacy as an interpersonal process. In S. Duck "
    "(Ed.), Handbook of Personal Relationships (pp. 367-389). Wiley.",
    finding="Intimacy grows when one person discloses and the other responds so that the "
    "discloser feels understood, validated and cared for; disclosure is only half the process.",
    verified=True,
)
LAURENCEAU_1998 = Evidence(
    citation="Laurenceau, J.-P., Barrett, L. F., & Pietromonaco, P. R. (1998). Intimacy as an "
    "interpersonal process. Journal of Personality and Social Psychology, 74(5), 1238-1251. "
    "doi:10.1037/0022-3514.74.5.1238",
    finding="In records made right after everyday interactions, intimacy reflected both "
    "self-disclosure and partner disclosure; perceived partner responsiveness partly carried "
    "the effect, and disclosing emotions mattered more than disclosing facts.",
    verified=True,
)
LAURENCEAU_2005 = Evidence(
    citation="Laurenceau, J.-P., Barrett, L. F., & Rovine, M. J. (2005). The interpersonal "
    "process model of intimacy in marriage. Journal of Family Psychology, 19(2), 314-323.",
    finding="In about 96 married couples' daily diaries over 42 days, self-disclosure and "
    "perceived partner disclosure predicted daily intimacy for both spouses (not checked "
    "against the paper).",
    verified=False,
)
ALGOE_2010 = Evidence(
    citation="Algoe, S. B., Gable, S. L., & Maisel, N. C. (2010). It's the little things: "
    "Everyday gratitude as a booster shot for romantic relationships. Personal Relationships, "
    "17(2), 217-233.",
    finding="Days on which partners felt gratitude for each other's thoughtful acts were "
    "followed by more connection and satisfaction (not checked against the paper).",
    verified=False,
)
GOTTMAN_1998 = Evidence(
    citation="Gottman, J. M., Coan, J., Carrere, S., & Swanson, C. (1998). Predicting marital "
    "happiness and stability from newlywed interactions. Journal of Marriage and the Family, "
    "60(1), 5-22.",
    finding="How a conflict conversation starts (gently or harshly) predicted how it went and "
    "later marital outcomes (not checked against the paper).",
    verified=False,
)

PRACTICES: dict[str, Practice] = {
    p.id: p
    for p in (
        Practice(
            id="appreciation",
            name="Appreciation",
            summary="Tell the other person one specific thing they did that you appreciated.",
            steps=(
                "Think of one thing they did today, however small.",
                "Say what it was and what it meant to you, in one or two sentences.",
                "Be specific: 'Thank you for making tea when I came home late' rather than "
                "'thanks for everything'.",
            ),
            minutes=2,
            evidence=(ALGOE_2010, REIS_SHAVER_1988),
        ),
        Practice(
            id="check_in",
            name="Routine check-in",
            summary="A few minutes, at a set time, to say how each of you is and to listen.",
            steps=(
                "Pick a time that is usually calm, such as after dinner.",
                "Each of you says how the day or week felt, including one feeling, not only facts.",
                "The other listens and says back what they heard before adding their own.",
                "Optionally fill in the weekly check-in questionnaire afterwards.",
            ),
            minutes=10,
            evidence=(LAURENCEAU_1998, LAURENCEAU_2005),
        ),
        Practice(
            id="raise_early",
            name="Raising a problem early",
            summary="Bring up a small worry while it is small, gently, as your own feeling.",
            steps=(
                "Notice something that bothers you before it builds up.",
                "Start softly: describe the situation and how you feel ('I felt left out "
                "when...'), not what is wrong with the other person.",
                "Ask for one concrete thing you would like.",
                "Listen to their side before looking for a solution.",
            ),
            minutes=10,
            evidence=(GOTTMAN_1998, REIS_SHAVER_1988),
        ),
        Practice(
            id="active_listening",
            name="Active listening",
            summary="When the other shares something, help them feel understood before "
            "offering advice.",
            steps=(
                "Put the phone away and look at them.",
                "Say back in your own words what you heard, including the feeling.",
                "Ask whether you got it right, and what would help: listening, comfort or ideas.",
                "Offer solutions only if they ask for them.",
            ),
            minutes=5,
            evidence=(REIS_SHAVER_1988, LAURENCEAU_1998),
        ),
    )
}


def list_practices() -> list[Practice]:
    """All practices, in the order they are presented."""
    return list(PRACTICES.values())


def get_practice(practice_id: str) -> Practice:
    """One practice by id; :class:`NotFoundError` lists the known ids."""
    try:
        return PRACTICES[practice_id]
    except KeyError:
        raise NotFoundError(
            f"no practice {practice_id!r}", hint="Known practices: " + ", ".join(PRACTICES) + "."
        ) from None
