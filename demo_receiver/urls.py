from django.urls import path

from demo_receiver import views

urlpatterns = [
    path("", views.receipts, name="demo_receipts"),
    path("<str:environment>", views.receive, name="demo_receiver"),
]
