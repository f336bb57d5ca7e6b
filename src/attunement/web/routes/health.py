"""``GET /health``: the app is up and its database answers a query."""

from __future__ import annotations

import sqlalchemy as sa
from fastapi import APIRouter
from pydantic import BaseModel
from sqlalchemy.exc import SQLAlchemyError

from attunement.errors import AttunementError
from attunement.web.deps import ReadSession

__all__ = ["Health", "router"]

router = APIRouter(tags=["health"])


class Health(BaseModel):
    """``{"status": "ok"}`` once a real query has reached the database."""

    status: str


@router.get("/health", response_model=Health)
def health(db: ReadSession) -> Health:
    """Answers ``{"status": "ok"}`` after a query to the database succeeded; 503 in the JSON
    error shape when the database cannot be reached."""
    try:
        db.execute(sa.select(sa.literal(1))).scalar_one()
    except SQLAlchemyError as error:
        raise AttunementError(
            "The database cannot be reached.",
            hint="Check that the database server is running and ATTUNEMENT_DATABASE_URL.",
            code="unavailable",
        ) from error
    return Health(status="ok")
