"""Every page of every model in the Django admin, with good and bad requests: never a 500.

The models are those registered with the admin, found the way the admin itself lists them; a model
registered later without an example here fails `test_every_registered_model_has_an_example`.
"""

from collections.abc import Callable
from datetime import timedelta

import pytest
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.apps import apps
from django.contrib import admin
from django.contrib.auth.models import Group, User
from django.db import models
from django.test import Client
from django.urls import reverse

from audit.models import AuditEvent
from identity.models import ExternalAccount
from management_api.models import Delivery, Webhook, WebhookLog


def a_webhook() -> models.Model:
    webhook = Webhook.objects.create(environment="sandbox", url="https://hooks.example.com/a")
    webhook.start_secret_roll(timedelta(hours=24))
    return webhook


def a_log_row() -> models.Model:
    return WebhookLog.objects.create(
        environment="sandbox", type="test", event="test", status="failure", url="https://hooks.example.com/a"
    )


# What django-axes records of a sign-in, as its handler writes it.
SIGN_IN = {"username": "someone", "ip_address": "203.0.113.5", "user_agent": "probe", "http_accept": "*/*"}


def an_access_attempt() -> models.Model:
    return AccessAttempt.objects.create(
        **SIGN_IN, path_info="/accounts/login/", get_data="", post_data="username=someone", failures_since_start=1
    )


# One stored example of each model the admin shows.
EXAMPLES: dict[str, Callable[[], models.Model]] = {
    "auth.User": lambda: User.objects.create(username="someone"),
    "auth.Group": lambda: Group.objects.create(name="editors"),
    "management_api.Webhook": a_webhook,
    "management_api.WebhookLog": a_log_row,
    "management_api.Delivery": lambda: Delivery.objects.create(environment="sandbox", type="data_alert", event="x"),
    "axes.AccessAttempt": an_access_attempt,
    "axes.AccessFailureLog": lambda: AccessFailureLog.objects.create(**SIGN_IN, path_info="/accounts/login/"),
    "axes.AccessLog": lambda: AccessLog.objects.create(**SIGN_IN, path_info="/accounts/login/"),
    "audit.AuditEvent": lambda: AuditEvent.objects.create(actor="maria", action=AuditEvent.Action.SIGNED_IN),
    "identity.ExternalAccount": lambda: ExternalAccount.objects.create(
        user=User.objects.create_user("olga"), provider=ExternalAccount.Provider.OIDC, subject="sub-olga"
    ),
}
REGISTERED = [model for model in apps.get_models() if admin.site.is_registered(model)]
# What a hand-edited address bar or a stale link could ask a list for.
ODD_LIST_QUERIES = [
    "?o=99",
    "?o=-1.x",
    "?p=999",
    "?p=x",
    "?all=",
    "?q=%25%27%22%3C",
    "?e=1",
    "?no_such_field=1",
    "?id__in=x",
    "?created_at__gte=not-a-date",
    "?created_at__year=abc",
    "?environment__exact=nowhere",
]
# Form data of every kind a hand-made request could send; each must be refused with a sentence.
BAD_FORMS = [
    {},
    {"environment": "staging", "url": "javascript:alert(1)", "name": "", "username": ""},
    {"url": "http://" + "a" * 3000 + ".com/", "username": "a" * 200, "email": "not an email", "name": "a" * 200},
    {"date_joined_0": "31/02/2020", "date_joined_1": "25:61", "groups": "x", "user_permissions": "999999"},
    {"password1": "x", "password2": "y", "username": "someone"},
]


def label(model: type[models.Model]) -> str:
    return model._meta.label


def url(model: type[models.Model], page: str, *args: object) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{page}", args=args)


@pytest.fixture
def superuser_client(db) -> Client:
    client = Client()
    # No password: hashing one would slow every test down, and force_login needs none.
    client.force_login(User.objects.create(username="root", is_staff=True, is_superuser=True))
    return client


def test_every_registered_model_has_an_example():
    assert sorted(map(label, REGISTERED)) == sorted(EXAMPLES)


def test_the_admin_index_lists_every_model(superuser_client):
    html = superuser_client.get("/admin/").content.decode()
    for model in REGISTERED:
        assert url(model, "changelist") in html


@pytest.mark.parametrize("model", REGISTERED, ids=label)
def test_every_page_answers_without_a_500(superuser_client, model):
    pk = EXAMPLES[label(model)]().pk
    pages = [url(model, "changelist"), url(model, "add"), url(model, "change", pk), url(model, "history", pk)]
    pages += [url(model, "delete", pk)] + [url(model, "changelist") + query for query in ODD_LIST_QUERIES]
    pages += [url(model, "change", "no-such-id"), url(model, "change", "999999999"), url(model, "history", "x")]
    for page in pages:
        status = superuser_client.get(page).status_code
        # 403: the admin of this model refuses the page (e.g. nothing may be added); 302: it
        # sends the person on (an unknown id, a list query it cannot use).
        assert status in (200, 302, 403), (page, status)


@pytest.mark.parametrize("model", REGISTERED, ids=label)
def test_bad_forms_are_refused_without_a_500_and_store_nothing(superuser_client, model):
    example = EXAMPLES[label(model)]()
    before = list(model._default_manager.order_by("pk").values())
    for data in BAD_FORMS:
        for page in (url(model, "add"), url(model, "change", example.pk)):
            status = superuser_client.post(page, data).status_code
            # 200: the form again, with its errors; 403: nothing may be added or changed; 302: a
            # form with no editable field at all (django-axes' records) was "saved" as it was.
            assert status in (200, 302, 403), (page, data, status)
    assert list(model._default_manager.order_by("pk").values()) == before


@pytest.mark.parametrize("model", REGISTERED, ids=label)
def test_deleting_answers_without_a_500(superuser_client, model):
    example = EXAMPLES[label(model)]()
    changelist = url(model, "changelist")
    chosen = {"action": "delete_selected", "_selected_action": [example.pk]}
    assert superuser_client.post(changelist, chosen).status_code in (200, 302, 403)
    assert superuser_client.post(changelist, {**chosen, "post": "yes"}).status_code in (200, 302, 403)
    assert superuser_client.post(url(model, "delete", example.pk), {"post": "yes"}).status_code in (302, 403)
    # Afterwards, the list still answers.
    assert superuser_client.get(changelist).status_code in (200, 403)


def test_good_forms_save(superuser_client):
    someone, group, webhook = (EXAMPLES[name]() for name in ("auth.User", "auth.Group", "management_api.Webhook"))
    user_form = {
        "username": "someone-renamed",
        "email": "someone@example.com",
        "is_active": "on",
        "date_joined_0": "2020-01-01",
        "date_joined_1": "00:00:00",
        "groups": [group.pk],
    }
    assert superuser_client.post(url(User, "change", someone.pk), user_form).status_code == 302
    assert User.objects.get(pk=someone.pk).username == "someone-renamed"
    assert superuser_client.post(url(Group, "change", group.pk), {"name": "reviewers"}).status_code == 302
    assert Group.objects.get(pk=group.pk).name == "reviewers"
    added = {"username": "newcomer", "password1": "a-long-pass-phrase-9", "password2": "a-long-pass-phrase-9"}
    assert superuser_client.post(url(User, "add"), added).status_code == 302
    changed = {"url": "https://hooks.example.com/new"}
    assert superuser_client.post(url(Webhook, "change", webhook.pk), changed).status_code == 302
    assert Webhook.objects.get(pk=webhook.pk).url == "https://hooks.example.com/new"
