"""What the portal keeps of an ID token's claims: who the person is, their name, email and groups.

Claims come from another system: anything the database cannot store (NUL, lone surrogates) is
dropped, lengths are bounded to the user model's, and an unusable answer is refused in words.
"""

import re
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from identity.refusals import SignInRefused

UNUSABLE_ANSWER = (
    "The sign-in service's answer did not say who you are in a way the portal can use, so you were not "
    "signed in. Tell an administrator."
)
SUBJECT_LENGTH = 255
USERNAME_LENGTH = 150
NAME_LENGTH = 150
EMAIL_LENGTH = 254
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


@dataclass(frozen=True)
class Person:
    subject: str
    username: str
    email: str
    first_name: str
    last_name: str
    groups: tuple[str, ...]


def _text(value: Any) -> str:
    return _UNSTORABLE.sub("", value).strip() if isinstance(value, str) else ""


def _email(value: Any) -> str:
    email = _text(value)
    try:
        validate_email(email)
    except ValidationError:
        return ""
    return email if len(email) <= EMAIL_LENGTH else ""


def groups_of(value: Any) -> tuple[str, ...]:
    """A groups claim: a list of names (or one name); anything else lists none."""
    values = [value] if isinstance(value, str) else value if isinstance(value, list) else []
    return tuple(sorted({name for name in map(_text, values) if name}))


def person_from_claims(claims: dict[str, Any], groups_claim: str) -> Person:
    subject = _text(claims.get("sub"))
    if not subject or len(subject) > SUBJECT_LENGTH:
        raise SignInRefused(UNUSABLE_ANSWER, "the ID token has no usable subject (sub)")
    email = _email(claims.get("email"))
    # The first of these that fits Django's username.
    candidates = (_text(claims.get("preferred_username")), email, subject)
    username = next((name for name in candidates if len(name) <= USERNAME_LENGTH and name), "")
    if not username:
        raise SignInRefused(UNUSABLE_ANSWER, "the ID token has no usable name")
    return Person(
        subject=subject,
        username=username,
        email=email,
        first_name=_text(claims.get("given_name"))[:NAME_LENGTH],
        last_name=_text(claims.get("family_name"))[:NAME_LENGTH],
        groups=groups_of(claims.get(groups_claim)),
    )
