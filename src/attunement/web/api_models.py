"""The JSON shapes of the API (request bodies ``...In``, responses ``...Out``).

Every error is :class:`ErrorBody`: ``{"error": {"code", "message", "hint", "problems"}}``, the
same shape :meth:`attunement.errors.AttunementError.to_dict` produces.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from attunement.store.models import Channel, MembershipRole, RelationshipType
from attunement.web.deps import MAX_ID

__all__ = [
    "AccountIn",
    "DeleteAccountIn",
    "ErrorBody",
    "ErrorDetail",
    "InstrumentOut",
    "InteractionIn",
    "InteractionOut",
    "InvitationAcceptIn",
    "InvitationIn",
    "InvitationOut",
    "ItemOut",
    "MeOut",
    "MeasurementIn",
    "MeasurementOut",
    "MemberOut",
    "PendingOut",
    "ProblemOut",
    "RelationshipIn",
    "RelationshipOut",
    "ScoreOut",
    "SessionIn",
    "SharingIn",
]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ProblemOut(BaseModel):
    message: str
    line: int | None = None
    column: str | None = None
    value: str | int | float | bool | None = None
    allowed: str | None = None


class ErrorDetail(BaseModel):
    code: str = Field(description="invalid_input, not_found, permission_denied, conflict, ...")
    message: str
    hint: str | None = None
    problems: list[ProblemOut] = []


class ErrorBody(BaseModel):
    """Every error of the API has this shape."""

    error: ErrorDetail


class SessionIn(_In):
    email: str = Field(max_length=320)
    password: str = Field(max_length=1024)


class AccountIn(_In):
    email: str = Field(max_length=320)
    display_name: str = Field(max_length=100)
    password: str = Field(max_length=1024)


class DeleteAccountIn(_In):
    password: str = Field(max_length=1024, description="The account's password, to confirm.")


class MeOut(BaseModel):
    id: int
    email: str
    display_name: str
    created_at: datetime


class MemberOut(BaseModel):
    person_id: int
    display_name: str
    role: str
    is_me: bool


class RelationshipOut(BaseModel):
    id: int
    title: str
    type: str
    my_role: str
    mutual_reveal: bool
    share_measurements_default: bool
    share_interactions_default: bool
    members: list[MemberOut]


class RelationshipIn(_In):
    type: RelationshipType
    role: MembershipRole
    name: str | None = Field(None, max_length=120)
    mutual_reveal: bool = True
    share_measurements_default: bool = False
    share_interactions_default: bool = True


class SharingIn(_In):
    mutual_reveal: bool
    share_measurements_default: bool
    share_interactions_default: bool


class InvitationIn(_In):
    role: MembershipRole


class InvitationOut(BaseModel):
    link: str = Field(description="Shown once: only a hash of its token is stored.")
    token: str
    role: str
    expires_at: datetime


class InvitationAcceptIn(_In):
    token: str = Field(min_length=1, max_length=200)


class ItemOut(BaseModel):
    number: int
    column: str
    text: str | None = Field(description="None where the wording may not be redistributed.")
    reverse: bool


class InstrumentOut(BaseModel):
    id: str
    name: str
    short_name: str
    version: str
    citation: str
    doi: str | None
    licence: str
    instructions: str
    scale_min: int
    scale_max: int
    anchors: dict[str, str]
    items: list[ItemOut]
    unverified: list[str]


class ScoreOut(BaseModel):
    name: str
    value: float | None
    low: float
    high: float
    explanation: str


class MeasurementIn(_In):
    instrument_id: str = Field(max_length=40, pattern=r"^[a-z][a-z0-9_]*$")
    responses: dict[str, int | None] = Field(
        description="Item answers keyed by column (eis_1 ...); null = not answered."
    )
    relationship_id: int | None = Field(None, ge=1, le=MAX_ID)
    about_person_id: int | None = Field(None, ge=1, le=MAX_ID)
    shared: bool | None = None
    taken_at: AwareDatetime | None = None


class MeasurementOut(BaseModel):
    id: int
    person_id: int
    relationship_id: int | None
    about_person_id: int | None
    instrument_id: str
    instrument_version: str
    taken_at: datetime
    responses: dict[str, Any]
    scores: dict[str, Any]
    shared: bool
    is_own: bool
    explanation: list[ScoreOut] = []


class InteractionIn(_In):
    relationship_id: int = Field(ge=1, le=MAX_ID)
    channel: Channel
    occurred_at: AwareDatetime | None = None
    duration_minutes: int | None = Field(None, ge=0, le=1440)
    responses: dict[str, int | None] = Field(
        default_factory=dict,
        description="Ratings keyed by column (interaction_1 ... interaction_8), all optional.",
    )
    note: str | None = Field(None, max_length=10_000)
    note_shared: bool = False
    shared: bool | None = None
    responds_to: int | None = Field(
        None, ge=1, le=MAX_ID, description="The other person's record of the same interaction."
    )


class InteractionOut(BaseModel):
    id: int
    person_id: int
    relationship_id: int
    occurred_at: datetime
    duration_minutes: int | None
    channel: str
    responses: dict[str, Any]
    scores: dict[str, Any]
    note: str | None = Field(description="None when it is someone else's private note.")
    note_shared: bool
    shared: bool
    partner_record_id: int | None
    is_own: bool
    other_view: InteractionOut | None = Field(
        None, description="The other person's record of the same interaction, once revealed."
    )


class PendingOut(BaseModel):
    """Another member's record one may answer: no ratings until one has."""

    id: int
    occurred_at: datetime
    channel: str
    person_name: str
