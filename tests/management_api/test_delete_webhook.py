from management_api.models import Webhook


def test_it_deletes_the_webhook(api):
    api.create("sandbox")
    api.create("production")
    response = api.call("DELETE", "/webhooks/sandbox")
    assert response.status_code == 200
    assert response.json() == {"data": None, "message": "Success", "reference_id": "1.1.200"}
    assert list(Webhook.objects.values_list("environment", flat=True)) == ["production"]


def test_it_answers_404_when_there_is_nothing_to_delete(api):
    response = api.call("DELETE", "/webhooks/production", environment="production")
    assert response.status_code == 404
    assert response.json()["reference_id"] == "1.1.404"
