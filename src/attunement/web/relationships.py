"""Relationships as the web app shows them: summaries, members, sharing settings, invitations.

Creating, inviting, accepting and leaving go through :mod:`attunement.store.records`; who may
see what through :mod:`attunement.store.access`. This module adds what pages need on top:
labels in plain words, the member list, a preview of an invitation before it is accepted, the
invitation's QR code, and the sharing settings.

Sharing settings and privacy: any current member may make a relationship *more* private at
any time (turn mutual reveal on, stop sharing new records by default). Turning mutual reveal
*off* would show the others' past ratings before one has answered, which they shared on the
understanding that it was on; so it can only be switched off while nobody else has joined.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import segno
import sqlalchemy as sa

from attunement.errors import ConflictError, NotFoundError, Problem
from attunement.store.access import require_current_member
from attunement.store.engine import StoreSession
from attunement.store.models import (
    Invitation,
    Membership,
    MembershipRole,
    Person,
    Relationship,
    RelationshipType,
)
from attunement.store.tokens import hash_token
from attunement.store.types import utcnow

__all__ = [
    "ROLE_LABELS",
    "TYPE_LABELS",
    "InvitationPreview",
    "Member",
    "RelationshipSummary",
    "invitation_preview",
    "members",
    "my_relationships",
    "qr_svg",
    "relationship_summary",
    "relationship_title",
    "update_sharing",
]

TYPE_LABELS: dict[str, str] = {
    RelationshipType.ROMANTIC_PARTNER: "Romantic partners",
    RelationshipType.FAMILY: "Family",
    RelationshipType.FRIEND: "Friends",
    RelationshipType.THERAPEUTIC: "Therapist and client",
    RelationshipType.COLLEAGUE: "Colleagues",
    RelationshipType.PET: "A person and a pet",
    RelationshipType.OTHER: "Other",
}

ROLE_LABELS: dict[str, str] = {
    MembershipRole.PARTNER: "Partner",
    MembershipRole.PARENT: "Parent",
    MembershipRole.CHILD: "Child",
    MembershipRole.SIBLING: "Sibling",
    MembershipRole.FRIEND: "Friend",
    MembershipRole.THERAPIST: "Therapist",
    MembershipRole.CLIENT: "Client",
    MembershipRole.COLLEAGUE: "Colleague",
    MembershipRole.OTHER: "Other",
}


@dataclass(frozen=True)
class Member:
    """A current member as other members see them: a name and a role, no email."""

    person_id: int
    display_name: str
    role: str
    joined_at: datetime
    is_me: bool


@dataclass(frozen=True)
class RelationshipSummary:
    """One of the person's relationships, with its current members."""

    id: int
    title: str
    type: str
    type_label: str
    my_role: str
    mutual_reveal: bool
    share_measurements_default: bool
    share_interactions_default: bool
    members: tuple[Member, ...]
    left_at: datetime | None

    @property
    def others(self) -> tuple[Member, ...]:
        return tuple(member for member in self.members if not member.is_me)


def relationship_title(relationship: Relationship, names: list[str]) -> str:
    """The relationship's name, or the other members' names, or its type."""
    if relationship.name:
        return relationship.name
    if names:
        return " and ".join([", ".join(names[:-1]), names[-1]]) if len(names) > 1 else names[0]
    return TYPE_LABELS.get(relationship.type, str(relationship.type))


def members(db: StoreSession, relationship_id: int, me_id: int) -> list[Member]:
    """The current members of a relationship, oldest membership first."""
    rows = db.execute(
        sa.select(Membership, Person.display_name)
        .join(Person, Person.id == Membership.person_id)
        .where(Membership.relationship_id == relationship_id, Membership.left_at.is_(None))
        .order_by(Membership.joined_at, Membership.id)
    )
    return [
        Member(
            person_id=membership.person_id,
            display_name=name,
            role=str(membership.role),
            joined_at=membership.joined_at,
            is_me=membership.person_id == me_id,
        )
        for membership, name in rows
    ]


def _summary(
    db: StoreSession, relationship: Relationship, membership: Membership, me_id: int
) -> RelationshipSummary:
    current = members(db, relationship.id, me_id) if membership.left_at is None else []
    others = [member.display_name for member in current if not member.is_me]
    return RelationshipSummary(
        id=relationship.id,
        title=relationship_title(relationship, others),
        type=str(relationship.type),
        type_label=TYPE_LABELS.get(relationship.type, str(relationship.type)),
        my_role=str(membership.role),
        mutual_reveal=relationship.mutual_reveal,
        share_measurements_default=relationship.share_measurements_default,
        share_interactions_default=relationship.share_interactions_default,
        members=tuple(current),
        left_at=membership.left_at,
    )


def my_relationships(
    db: StoreSession, me: Person, *, include_former: bool = False
) -> list[RelationshipSummary]:
    """The person's relationships (current first, newest first), each with its members."""
    query = (
        sa.select(Relationship, Membership)
        .join(Membership, Membership.relationship_id == Relationship.id)
        .where(Membership.person_id == me.id)
        .order_by(Membership.left_at.is_not(None), Membership.joined_at.desc(), Membership.id)
    )
    if not include_former:
        query = query.where(Membership.left_at.is_(None))
    summaries = []
    seen: set[int] = set()
    for relationship, membership in db.execute(query):
        if relationship.id in seen:  # left and rejoined: the current membership comes first
            continue
        seen.add(relationship.id)
        summaries.append(_summary(db, relationship, membership, me.id))
    return summaries


def relationship_summary(db: StoreSession, me: Person, relationship_id: int) -> RelationshipSummary:
    """One relationship of which the person is a current member (denials as in the store)."""
    membership = require_current_member(db, me.id, relationship_id)
    relationship = db.get_one(Relationship, relationship_id)
    return _summary(db, relationship, membership, me.id)


def update_sharing(
    db: StoreSession,
    me: Person,
    relationship_id: int,
    *,
    mutual_reveal: bool,
    share_measurements_default: bool,
    share_interactions_default: bool,
) -> Relationship:
    """Change the relationship's sharing settings (committed); see the module docs for when
    mutual reveal may be switched off."""
    require_current_member(db, me.id, relationship_id)
    relationship = db.get_one(Relationship, relationship_id)
    if relationship.mutual_reveal and not mutual_reveal:
        others = [m for m in members(db, relationship_id, me.id) if not m.is_me]
        if others:
            raise ConflictError(
                "Mutual reveal stays on once others have joined.",
                hint="The others shared their ratings expecting you to see them only after "
                "answering yourself. Start a new relationship if you both want it off.",
                problems=[Problem("cannot be switched off now", column="mutual_reveal")],
            )
    relationship.mutual_reveal = mutual_reveal
    relationship.share_measurements_default = share_measurements_default
    relationship.share_interactions_default = share_interactions_default
    db.commit()
    return relationship


@dataclass(frozen=True)
class InvitationPreview:
    """What the invited person sees before accepting."""

    inviter_name: str | None
    relationship_type_label: str
    role: str
    role_label: str
    expires_at: datetime
    relationship_id: int


def invitation_preview(db: StoreSession, token: str) -> InvitationPreview:
    """Who invites whom into what, for a valid, unused, unexpired invitation token."""
    invitation = db.scalars(
        sa.select(Invitation).where(Invitation.token_hash == hash_token(token.strip()))
    ).one_or_none()
    if invitation is None:
        raise NotFoundError(
            "This invitation link is not valid.",
            hint="Check that the whole link was copied, or ask for a new one.",
        )
    if invitation.used_at is not None:
        raise ConflictError(
            "This invitation has already been used.", hint="Ask for a new invitation link."
        )
    if invitation.expires_at <= utcnow():
        raise ConflictError("This invitation has expired.", hint="Ask for a new invitation link.")
    relationship = db.get_one(Relationship, invitation.relationship_id)
    inviter = db.get(Person, invitation.invited_by_id) if invitation.invited_by_id else None
    return InvitationPreview(
        inviter_name=inviter.display_name if inviter else None,
        relationship_type_label=TYPE_LABELS.get(relationship.type, str(relationship.type)),
        role=str(invitation.role),
        role_label=ROLE_LABELS.get(invitation.role, str(invitation.role)),
        expires_at=invitation.expires_at,
        relationship_id=relationship.id,
    )


def qr_svg(link: str) -> str:
    """An inline SVG QR code of ``link`` (scales to its container; titled for screen readers)."""
    code = segno.make(link, error="m", micro=False)
    svg: str = code.svg_inline(
        scale=4, border=2, dark="#111", light="#fff", title="QR code of the invitation link"
    )
    return svg
