"""Unknown API URLs answer JSON in the dialect's body even with DEBUG on (the demo runs with DEBUG=1)."""

import pytest


@pytest.mark.parametrize(
    ("path", "key"),
    [("/api/v1/nothing-here", "error_code"), ("/api-order/nothing", "code"), ("/ccagent/v1/nothing", "errorCode")],
)
def test_unknown_api_url_is_json_with_debug_on(client, settings, path, key):
    settings.DEBUG = True
    response = client.get(path)
    assert response.status_code == 404
    assert response["Content-Type"].startswith("application/json")
    assert key in response.json()
