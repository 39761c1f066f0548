"""Which Django permissions each group holds. Data migrations call :func:`sync_groups`.

No group may change service accounts' grants (``config.ServiceAccount``): administrators (superusers) do, in the
admin, or ``create_employee``.

The groups are the roles of DESIGN.md: agents, managers (everything an agent can, plus the
approvals) and service accounts (API only, may act on behalf of a named employee). Later apps add
their codenames here and a migration that calls ``sync_groups`` again.
"""

AGENT_GROUP = "Support agents"
MANAGER_GROUP = "Managers"
SERVICE_GROUP = "Service accounts"

# The roles an employee has (``config.people.employee_role``), as stored in refund limits and service grants.
AGENT, MANAGER, SERVICE = "agent", "manager", "service"
ROLE_CHOICES = [(AGENT, "Support agents"), (MANAGER, "Managers"), (SERVICE, "Service accounts")]

AGENT_PERMISSIONS = [
    "orders.view_order",
    "orders.view_orderitem",
    "orders.change_orderitem",
    "orders.view_category",
    "orders.view_payment",
    "orders.view_shipment",
    "orders.view_refund",
    "orders.add_refund",
    # returns: record and read line-level returns, read return codes
    "returns.view_return",
    "returns.add_return",
    "returns.view_returnline",
    "returns.view_returnreason",
    # issues
    "issues.view_orderissue",
    "issues.add_orderissue",
    "issues.change_orderissue",
    "issues.view_issuenote",
    "issues.add_issuenote",
    "issues.view_approvalrequest",
    "issues.view_notification",
    # appeasements (docs/api/ccagent.md): draft, change, submit within policy, delete drafts; read the managed lists
    "appeasements.view_appeasement",
    "appeasements.add_appeasement",
    "appeasements.change_appeasement",
    "appeasements.delete_appeasement",
    "appeasements.view_appeasementrefund",
    "appeasements.view_appeasementcomment",
    "appeasements.view_appeasementreason",
    "appeasements.view_refundtype",
]

MANAGER_PERMISSIONS = AGENT_PERMISSIONS + [
    "orders.add_order",
    "orders.change_order",
    "orders.add_category",
    "orders.change_category",
    # returns: manage the return codes
    "returns.add_returnreason",
    "returns.change_returnreason",
    # issues: close, escalate and reopen directly, move escalated issues on, decide requests
    "issues.close_issue",
    "issues.escalate_issue",
    "issues.reopen_issue",
    "issues.handle_escalated_issue",
    "issues.decide_approvalrequest",
    "issues.change_approvalrequest",
    # appeasements: decide over-policy appeasements (and change other agents'), manage reasons and refund types
    "appeasements.approve_appeasement",
    "appeasements.add_appeasementreason",
    "appeasements.change_appeasementreason",
    "appeasements.add_refundtype",
    "appeasements.change_refundtype",
    # refund limits (per employee and per role); never their own (orders.admin.RefundLimitAdmin)
    "orders.view_refundlimit",
    "orders.add_refundlimit",
    "orders.change_refundlimit",
    "orders.delete_refundlimit",
    # webhooks (docs/api/webhooks.md): subscriptions, the delivery log (send again) and the outbox
    "webhooks.view_subscription",
    "webhooks.add_subscription",
    "webhooks.change_subscription",
    "webhooks.delete_subscription",
    "webhooks.view_delivery",
    "webhooks.change_delivery",
    "webhooks.view_deliveryattempt",
    "webhooks.view_outboxevent",
]

SERVICE_PERMISSIONS = AGENT_PERMISSIONS + [
    "orders.add_order",
    "orders.change_order",
    "orders.act_on_behalf",
]

GROUP_PERMISSIONS = {
    AGENT_GROUP: AGENT_PERMISSIONS,
    MANAGER_GROUP: MANAGER_PERMISSIONS,
    SERVICE_GROUP: SERVICE_PERMISSIONS,
}


def sync_groups(apps, schema_editor=None) -> None:
    """Create the groups and grant them every listed permission that exists (idempotent)."""
    from django.contrib.auth.management import create_permissions

    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None

    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for group_name, perms in GROUP_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=group_name)
        for perm in perms:
            app_label, codename = perm.split(".", 1)
            permission = Permission.objects.filter(content_type__app_label=app_label, codename=codename).first()
            if permission is not None:
                group.permissions.add(permission)
