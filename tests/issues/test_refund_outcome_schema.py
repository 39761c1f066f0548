"""The OpenAPI schema documents refund outcomes: the PATCH answer's refund fields, the issue's refunds (issue 21)."""

from drf_spectacular.generators import SchemaGenerator

REFUND_FIELDS = {
    "refund_id",
    "amount",
    "currency",
    "source",
    "status",
    "failure_reason",
    "requested_by",
    "approved_by",
    "created_at",
    "processed_at",
}


def _schema():
    return SchemaGenerator().get_schema(request=None, public=True)


def test_the_patch_answers_document_the_refund_they_initiated(db):
    schema = _schema()
    components = schema["components"]["schemas"]
    responses = schema["paths"]["/api/v1/orders/{order_id}/issues/{issue_id}"]["patch"]["responses"]
    ok = responses["200"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
    # seed 001's response stays its own component, exactly; the answer extends it
    seed, added = components[ok]["allOf"]
    assert seed == {"$ref": "#/components/schemas/IssueUpdateOutput"}
    assert set(added["properties"]) == {"refund_id", "refund_status"}
    assert set(added["required"]) == {"refund_id", "refund_status"}
    assert added["properties"]["refund_id"]["nullable"] is True
    assert added["properties"]["refund_status"]["nullable"] is True
    assert "over the refund limit" in added["properties"]["refund_id"]["description"]
    assert {"$ref": "#/components/schemas/RefundStatusEnum"} in added["properties"]["refund_status"]["oneOf"]
    assert components["RefundStatusEnum"]["enum"] == ["pending", "processing", "completed", "failed"]
    # refund_processed says what it means: initiated, not paid
    processed = components["IssueUpdateOutput"]["properties"]["refund_processed"]["description"]
    assert "initiated a refund" in processed
    assert "not that the money was paid" in processed

    accepted = responses["202"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
    props = components[accepted]["properties"]
    assert {"refund_id", "refund_status", "refund_processed", "approval_request_id", "approval_kind"} <= set(props)
    assert props["refund_id"]["nullable"] is True


def test_the_issue_detail_and_history_document_the_issues_refunds(db):
    schema = _schema()
    components = schema["components"]["schemas"]
    paths = schema["paths"]
    detail = paths["/api/v1/orders/{order_id}/issues/{issue_id}"]["get"]["responses"]["200"]
    history = paths["/api/v1/orders/{order_id}/issues/{issue_id}/history"]["get"]["responses"]["200"]
    for response in (detail, history):
        name = response["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
        refunds = components[name]["properties"]["refunds"]
        assert refunds["type"] == "array"
        assert "refunds" in components[name]["required"]
        item = components[refunds["items"]["$ref"].rsplit("/", 1)[1]]
        assert set(item["properties"]) == REFUND_FIELDS
        assert {"$ref": "#/components/schemas/RefundStatusEnum"} in item["properties"]["status"]["allOf"]
        assert "failed" in item["properties"]["status"]["description"]
        for nullable in ("approved_by", "requested_by", "processed_at"):
            assert item["properties"][nullable]["nullable"] is True, nullable


def test_the_refund_outcome_fields_add_no_schema_warning(db, capsys):
    _schema()
    err = capsys.readouterr().err
    # drf-spectacular names enums by field name: left to it, the refund statuses collide with the other "status"
    # choice sets (a warning naming them StatusXxxEnum) and get a second name under refund_status
    assert [line for line in err.splitlines() if "efund" in line or 'named "status"' in line] == []
