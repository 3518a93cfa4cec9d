"""DemoReceipt, taken over from management_api: its 0003 renamed the table to this app's name,
so here only the migration state changes (on a fresh database as on an existing one)."""

import django.utils.timezone
from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("management_api", "0003_move_demo_receipt"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="DemoReceipt",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID"),
                        ),
                        (
                            "environment",
                            models.CharField(
                                choices=[("sandbox", "Sandbox"), ("production", "Production")], max_length=16
                            ),
                        ),
                        ("delivery_id", models.CharField(blank=True, default="", max_length=64)),
                        ("event", models.CharField(blank=True, default="", max_length=100)),
                        ("verified", models.BooleanField(default=False)),
                        ("problem", models.TextField(blank=True, default="")),
                        ("headers", models.JSONField(default=dict)),
                        ("body", models.TextField(blank=True, default="")),
                        ("received_at", models.DateTimeField(db_index=True, default=django.utils.timezone.now)),
                    ],
                ),
            ],
        ),
    ]
