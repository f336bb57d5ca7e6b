"""Password hashing (argon2id) and secret tokens."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from attunement.errors import InvalidInputError
from attunement.store import (
    hash_password,
    hash_token,
    needs_rehash,
    new_code,
    new_token,
    normalize_code,
    verify_password,
)
from attunement.store.tokens import CODE_ALPHABET


def test_password_round_trip() -> None:
    stored = hash_password("correct horse battery")
    assert stored.startswith("$argon2id$")
    assert verify_password(stored, "correct horse battery")
    assert not verify_password(stored, "correct horse batterY")
    assert not needs_rehash(stored)


def test_two_hashes_of_one_password_differ() -> None:
    assert hash_password("correct horse battery") != hash_password("correct horse battery")


def test_missing_or_broken_hash_never_verifies() -> None:
    assert not verify_password(None, "anything at all")
    assert not verify_password("", "anything at all")
    assert not verify_password("not-a-hash", "anything at all")


def test_short_password_is_refused_naming_the_field() -> None:
    with pytest.raises(InvalidInputError) as caught:
        hash_password("short")
    assert caught.value.problems[0].column == "password"


def test_token_is_stored_as_its_hash() -> None:
    token, digest = new_token()
    assert len(token) >= 43
    assert digest == hash_token(token)
    assert token not in digest
    assert len(digest) == 64


@settings(max_examples=50)
@given(st.integers(min_value=4, max_value=12))
def test_codes_use_the_unambiguous_alphabet(length: int) -> None:
    code = new_code(length)
    assert len(code) == length
    assert set(code) <= set(CODE_ALPHABET)
    assert normalize_code(" " + code.lower()[:3] + "-" + code.lower()[3:]) == code
