"""DemoReceipt moves to the demo_receiver app. Its table is renamed, not copied, so the receipts
stay; demo_receiver's 0001_initial takes the model over in the migration state."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("management_api", "0002_demo_receipt"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.AlterModelTable(name="demoreceipt", table="demo_receiver_demoreceipt"),
            ],
            state_operations=[
                migrations.DeleteModel(name="DemoReceipt"),
            ],
        ),
    ]
