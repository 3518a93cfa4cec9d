import secrets

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "On a database with no users, create an 'admin' superuser and print its password once."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--url", default="http://127.0.0.1:8000", help="where the portal is served")

    def handle(self, *args, url: str, **options) -> None:
        User = get_user_model()
        if User.objects.exists():
            return
        password = secrets.token_urlsafe(12)
        User.objects.create_superuser("admin", "", password)
        self.stdout.write(
            self.style.SUCCESS(
                f"\nFirst login: open {url}/ and sign in as  admin  /  {password}\n"
                "This password is shown only this once; change it at /admin/password_change/.\n"
            )
        )
