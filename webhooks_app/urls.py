from django.urls import path

from webhooks_app import views

urlpatterns = [
    path("", views.webhooks_tab, name="webhooks_tab"),
]
