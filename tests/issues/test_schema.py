"""The OpenAPI schema documents the issue endpoints, their 202 path and their error bodies."""

from drf_spectacular.generators import SchemaGenerator


def test_issue_endpoints_are_documented(db):
    schema = SchemaGenerator().get_schema(request=None, public=True)
    paths = schema["paths"]
    patch = paths["/api/v1/orders/{order_id}/issues/{issue_id}"]["patch"]
    assert set(patch["responses"]) >= {"200", "202", "400", "401", "403", "404", "409", "422"}
    body = schema["components"]["schemas"]["IssueUpdateInputRequest"]
    assert set(body["properties"]) == {
        "notes",
        "priority",
        "status",
        "refund_amount",
        "refund_source",
        "resolution_description",
        "customer_satisfied",
        "follow_up_required",
        "follow_up_date",
        "assigned_to",
        "updated_by",
    }
    assert body["required"] == ["updated_by"]
    assert set(schema["components"]["schemas"]["IssueUpdateOutput"]["properties"]) == {
        "success",
        "message",
        "issue_id",
        "updated_fields",
        "previous_status",
        "new_status",
        "refund_processed",
        "timestamp",
    }
    for path in (
        "/api/v1/orders/{order_id}/issues",
        "/api/v1/orders/{order_id}/issues/{issue_id}/history",
        "/api/v1/issues",
        "/api/v1/issues/metrics",
        "/api/v1/approvals",
        "/api/v1/approvals/{approval_id}/approve",
        "/api/v1/approvals/{approval_id}/reject",
    ):
        assert path in paths, path
    assert "IssueStatusEnum" in schema["components"]["schemas"]
