from django.apps import AppConfig


class DemoReceiverConfig(AppConfig):
    name = "demo_receiver"
    verbose_name = "Demo receiver"
