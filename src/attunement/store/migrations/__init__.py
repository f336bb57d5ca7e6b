"""Alembic migration environment of the attunement database (shipped inside the package)."""

__all__: list[str] = []
