"""Roles from groups and the claims kept of an ID token, for any input (hypothesis, bounded), on
the real database: the mapping grants exactly what the settings say, never a superuser, and
whatever a provider sends is stored or refused in words, never a 500."""

import pytest
from django.contrib.auth.models import User
from hypothesis import HealthCheck, example, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from identity.claims import person_from_claims
from identity.refusals import SignInRefused
from identity.roles import NO_MAPPED_GROUP, Grant, apply_grant, grant_for, manage_permission

MANAGE = "webhooks_app.manage_webhooks"
BOUNDED = hypothesis_settings(
    max_examples=40, deadline=None, derandomize=True, database=None, suppress_health_check=list(HealthCheck)
)
NAMES = st.sampled_from(["Managers", "managers", "viewers", "admins", "cafeteria", "Ops Team", "ünïcode"])
# Any text a JSON string can carry, NUL and lone surrogates included.
TEXT = st.text(st.characters(exclude_categories=[]), max_size=300)
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | TEXT,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=10,
)
CLAIM_NAMES = ["sub", "preferred_username", "email", "given_name", "family_name", "groups"]


@BOUNDED
@given(groups=st.lists(NAMES, max_size=5), managers=st.lists(NAMES, max_size=2), viewers=st.lists(NAMES, max_size=2))
def test_the_grant_is_exactly_the_mapped_groups(settings, groups, managers, viewers):
    settings.SSO_MANAGER_GROUPS, settings.SSO_VIEWER_GROUPS, settings.SSO_STAFF_GROUPS = managers, viewers, ["admins"]

    def matching(mapped: list[str]) -> set[str]:
        return {group for group in groups if group.casefold() in {name.casefold() for name in mapped}}

    expected = (matching(managers), matching(viewers), matching(["admins"]))
    if not any(expected):
        with pytest.raises(SignInRefused) as refused:
            grant_for(groups)
        assert refused.value.sentence == NO_MAPPED_GROUP
        return
    grant = grant_for(groups)
    assert (set(grant.manager), set(grant.viewer), set(grant.staff)) == expected


@BOUNDED
@given(manager=st.booleans(), staff=st.booleans(), was_superuser=st.booleans(), was_manager=st.booleans())
def test_applying_a_grant_gives_exactly_its_roles_and_never_a_superuser(db, manager, staff, was_superuser, was_manager):
    user = User.objects.create_user("someone", is_superuser=was_superuser, is_staff=not staff)
    if was_manager:
        user.user_permissions.add(manage_permission())
    apply_grant(user, Grant(manager=("m",) if manager else (), viewer=("v",), staff=("s",) if staff else ()))
    stored = User.objects.get(pk=user.pk)
    assert stored.has_perm(MANAGE) == manager
    assert (stored.is_staff, stored.is_superuser) == (staff, False)
    stored.delete()


@BOUNDED
@given(claims=st.fixed_dictionaries({}, optional={name: JSON for name in CLAIM_NAMES}))
# What PostgreSQL cannot store (NUL) and no UTF-8 database can (a lone surrogate), surely tried.
@example(claims={"sub": "a\x00b", "preferred_username": "ol\ud800ivia", "given_name": "\x00Liv", "groups": ["\udfff"]})
def test_any_claims_are_stored_as_a_user_or_refused_in_words(db, claims):
    try:
        person = person_from_claims(claims, "groups")
    except SignInRefused as refused:
        assert refused.sentence.endswith("Tell an administrator.")
        return
    assert 0 < len(person.username) <= 150 and len(person.subject) <= 255
    assert all(isinstance(group, str) and group for group in person.groups)
    # The real database (SQLite or PostgreSQL, which refuses NUL) stores every field as it is.
    user = User.objects.create_user(
        person.username, email=person.email, first_name=person.first_name, last_name=person.last_name
    )
    stored = User.objects.get(pk=user.pk)
    assert (stored.username, stored.email, stored.first_name, stored.last_name) == (
        person.username,
        person.email,
        person.first_name,
        person.last_name,
    )
    stored.delete()


def test_a_groups_claim_may_be_one_name():
    assert person_from_claims({"sub": "1", "groups": "managers"}, "groups").groups == ("managers",)
