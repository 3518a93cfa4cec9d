"""The provider's people: PROVIDER_DIR/people.json, {username: {password, email, given_name,
family_name, groups}}, which the tests rewrite to change someone's groups."""

import json
import os
from pathlib import Path
from typing import Any

from django.contrib.auth.models import User
from django.http import HttpRequest
from oauth2_provider.oauth2_validators import OAuth2Validator


def people() -> dict[str, dict[str, Any]]:
    return json.loads((Path(os.environ["PROVIDER_DIR"]) / "people.json").read_text())


class PeopleBackend:
    def authenticate(self, request: HttpRequest | None, username: str = "", password: str = "") -> User | None:
        person = people().get(username)
        if person is None or person["password"] != password:
            return None
        return User.objects.get_or_create(username=username)[0]

    def get_user(self, user_id: int) -> User | None:
        return User.objects.filter(pk=user_id).first()


class PeopleValidator(OAuth2Validator):
    # Which scope releases each claim, in the ID token and the userinfo answer.
    oidc_claim_scope = {
        **OAuth2Validator.oidc_claim_scope,
        "groups": "profile",
        "preferred_username": "profile",
        "given_name": "profile",
        "family_name": "profile",
        "email": "email",
    }

    def get_additional_claims(self, request: Any) -> dict[str, Any]:
        username = request.user.username
        person = people().get(username, {})
        return {
            "preferred_username": username,
            "email": person.get("email", ""),
            "given_name": person.get("given_name", ""),
            "family_name": person.get("family_name", ""),
            "groups": person.get("groups", []),
        }
