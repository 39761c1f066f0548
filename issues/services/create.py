"""Reporting an issue on an order."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from config.errors import ValidationFailed
from config.history import save_with_history
from issues.models import IssuePriority, OrderIssue
from issues.services.common import assignable_employee, note_add
from issues.services.notifications import issue_assigned_notify, issue_critical_notify
from orders.models import Order, OrderItem
from orders.services import order_get
from webhooks.services import event_emit


@transaction.atomic
def issue_create(*, order_id: str, actor, data: dict[str, Any]) -> OrderIssue:
    """Report an issue on an order. ``data`` holds the validated POST body."""
    order = order_get(order_id)
    items, assignee = _validate(order, data)
    issue = OrderIssue(
        order=order,
        issue_type=data["issue_type"],
        title=data["title"],
        description=data.get("description", ""),
        priority=data.get("priority") or IssuePriority.MEDIUM,
        assigned_to=assignee,
        created_by=actor,
    )
    save_with_history(issue, actor=actor, reason="Issue reported")
    if items:
        issue.affected_items.set(items)
    if data.get("notes"):
        note_add(issue=issue, actor=actor, body=data["notes"])
    if assignee is not None:
        issue_assigned_notify(issue=issue, actor=actor)
    if issue.priority == IssuePriority.CRITICAL:
        issue_critical_notify(issue=issue, actor=actor)
    event_emit("issue.created", issue)
    return issue


def _validate(order: Order, data: dict[str, Any]) -> tuple[list[OrderItem], Any]:
    """The affected items (of this order) and the assignee, or one VALIDATION_ERROR listing every problem."""
    errors: list[dict[str, str]] = []
    wanted = list(dict.fromkeys(data.get("order_item_ids") or []))
    items = list(OrderItem.objects.filter(order=order, order_item_id__in=wanted))
    if len(items) != len(wanted):
        found = {i.order_item_id for i in items}
        missing = ", ".join(str(w) for w in wanted if w not in found)
        errors.append({"field": "order_item_ids", "error": f"Not items of order {order.order_id}: {missing}"})
    assignee = None
    if data.get("assigned_to"):
        assignee = assignable_employee(data["assigned_to"])
        if assignee is None:
            errors.append({"field": "assigned_to", "error": "Must be an active agent or manager"})
    notes = data.get("notes")
    if notes is not None and not notes.strip():
        errors.append({"field": "notes", "error": "Cannot be empty"})
    if errors:
        raise ValidationFailed(errors)
    return items, assignee
