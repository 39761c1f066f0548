"""Audit completeness in the admin: every admin write (action, transition button or form, add/change/delete
form, custom page) driven through the real admin as the employee who may make it leaves a history row for
each row it changes, naming that employee, with a change reason; a refused attempt changes nothing and
leaves no history. ``test_every_admin_write_is_driven`` fails when the admin offers a write no driver covers.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

import pytest
from django.conf import settings
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.test import Client, RequestFactory
from django.urls import reverse
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from appeasements.models import Appeasement, AppeasementReason, RefundType
from config.models import ServiceAccount
from issues import services as issue_services
from issues.models import ApprovalRequest, OrderIssue
from orders.models import Category, RefundLimit
from returns.models import Return, ReturnReason
from tests.factories import employee, issue_factory, order_with_items
from tests.hardening.audit_helpers import Audit, is_tracked, submit
from webhooks import services as webhook_services
from webhooks.models import Delivery, Subscription

pytestmark = pytest.mark.django_db

User = get_user_model()


# --------------------------------------------------------------------------- the admin's write surface

STANDARD_URLS = {"changelist", "add", "history", "delete", "change", "transition", "simple_history"}
# Pages an admin offers that only read: checked to write nothing by test_read_only_admin_pages_write_nothing.
READ_ONLY_URLS = {"issues.OrderIssue url:issues_dashboard"}


def admin_write_surface() -> set[str]:
    """Every write the admin offers a superuser: ``<model> add|change|delete``, ``<model> action:<name>``,
    ``<model> transition:<name>`` (buttons the admin shows), ``<model> url:<name>`` (custom pages) and
    ``<model> inline:<model>`` (inlines that add, change or delete rows)."""
    request = RequestFactory().get("/admin/")
    request.user = User(is_superuser=True, is_staff=True, is_active=True)
    surface = set()
    for model, model_admin in admin.site._registry.items():
        label = model._meta.label
        for verb in ("add", "change", "delete"):
            if getattr(model_admin, f"has_{verb}_permission")(request):
                surface.add(f"{label} {verb}")
        surface |= {f"{label} action:{name}" for name in model_admin.get_actions(request)}
        for field_name in getattr(model_admin, "fsm_fields", None) or []:
            for t in model._meta.get_field(field_name).get_all_transitions(model):
                if model_admin.is_fsm_transition_visible(t):
                    surface.add(f"{label} transition:{t.name}")
        prefix = f"{model._meta.app_label}_{model._meta.model_name}_"
        for url in model_admin.get_urls():
            name = getattr(url, "name", None)
            if name and name.removeprefix(prefix) not in STANDARD_URLS:
                surface.add(f"{label} url:{name}")
        for inline_class in model_admin.inlines:
            inline = inline_class(model, admin.site)
            if any(getattr(inline, f"has_{v}_permission")(request, None) for v in ("add", "change", "delete")):
                if inline.can_delete or inline.has_add_permission(request, None):
                    surface.add(f"{label} inline:{inline.model._meta.label}")
    return surface


# --------------------------------------------------------------------------- drivers


@dataclass
class Write:
    """One admin write: ``refused`` (optional) is tried first and must change nothing; then ``do`` must be
    audited as made by ``actor``."""

    actor: object
    do: Callable
    refused: Callable | None = None
    label: str = ""


@dataclass
class SetUp:
    """Test data made between two writes (not audited)."""

    do: Callable


@dataclass
class NoWrite:
    """A POST the admin accepts that must write nothing (its save_model is a no-op)."""

    do: Callable


@dataclass
class NoTrackedWrite:
    """A write to models without history: it must not change any tracked row (nor write history)."""

    do: Callable
    refused: Callable | None = None


DRIVERS: dict[str, Callable] = {}


def drives(*keys: str):
    def register(func):
        for key in keys:
            assert key not in DRIVERS, key
            DRIVERS[key] = func
        return func

    return register


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def change_url(obj) -> str:
    return reverse(f"admin:{obj._meta.app_label}_{obj._meta.model_name}_change", args=[obj.pk])


def add_url(model) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_add")


def changelist_url(model) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")


def transition_url(obj, name: str) -> str:
    meta = obj._meta
    return reverse(
        f"admin:{meta.app_label}_{meta.model_name}_transition", kwargs={"object_id": obj.pk, "transition_name": name}
    )


def button(client, obj, name: str):
    """A transition button without a form: the browser posts the change form with ``_fsm_transition_to``."""
    return submit(client, change_url(obj), {"_fsm_transition_to": name})


def action(client, model, name: str, objs):
    return client.post(changelist_url(model), {"action": name, "_selected_action": [o.pk for o in objs], "post": "yes"})


@pytest.fixture
def people(db):
    return {
        "agent": employee("emp_agent", "agent"),
        "other": employee("emp_other", "agent"),
        "manager": employee("emp_manager", "manager"),
        "manager2": employee("emp_manager2", "manager"),
        "root": User.objects.create_superuser("root", "root@example.com", "root-pass"),
        "viewer": _viewer(),
    }


def _viewer():
    """Staff who may read every tracked model and change none."""
    from django.contrib.auth.models import Permission

    user = User.objects.create_user("emp_viewer", password="x", is_staff=True)
    user.user_permissions.set(Permission.objects.filter(codename__startswith="view_"))
    return User.objects.get(pk=user.pk)


# -- orders


def _order_button(status: str, name: str, bad_status: str):
    def drive(p):
        order = order_with_items(status=status)
        bad = order_with_items(status=bad_status)
        mgr, agent = logged_in(p["manager"]), logged_in(p["agent"])

        def refused():
            assert agent.post(change_url(order), {"_fsm_transition_to": name}).status_code == 403
            button(mgr, bad, name)  # not allowed from bad_status: the service refuses

        return [Write(p["manager"], lambda: button(mgr, order, name), refused)]

    return drive


drives("orders.Order transition:accept")(_order_button("pending", "accept", "completed"))
drives("orders.Order transition:start")(_order_button("accepted", "start", "pending"))
drives("orders.Order transition:complete")(_order_button("in_progress", "complete", "accepted"))
drives("orders.Order transition:cancel")(_order_button("accepted", "cancel", "completed"))


@drives("orders.Order url:orders_order_refund")
def _order_refund(p):
    order = order_with_items(items=2, unit_price=Decimal("20.00"), status="completed")
    url = reverse("admin:orders_order_refund", args=[order.pk])
    agent = logged_in(p["agent"])
    return [
        Write(
            p["agent"],
            lambda: agent.post(url, {"amount": "5.00", "source": "merchant", "reason": "Goodwill", "form_key": "k1"}),
            lambda: agent.post(url, {"amount": "500.00", "source": "merchant", "reason": "Too much", "form_key": "k2"}),
        )
    ]


@drives("orders.Order url:orders_order_appeasement")
def _order_appeasement(p):
    """The goodwill form: an appeasement through appeasements.services.appeasement_create (issue 23)."""
    order = order_with_items(items=2, unit_price=Decimal("50.00"), status="completed")
    reason = AppeasementReason.objects.get_or_create(code="late", defaults={"description": "Late"})[0]
    credit = RefundType.objects.get_or_create(
        code="storeCredit", defaults={"description": "Store credit", "ledger_source": "store_credit"}
    )[0]
    url = reverse("admin:orders_order_appeasement", args=[order.pk])
    agent = logged_in(p["agent"])
    data = {"reason": reason.pk, "refund_type": credit.pk, "type": "order", "note": "Sorry"}
    return [
        Write(
            p["agent"],
            lambda: agent.post(url, {**data, "amount": "5.00", "form_key": "a1"}),
            lambda: agent.post(url, {**data, "amount": "500.00", "form_key": "a2"}),  # over what was paid
        )
    ]


@drives(
    "orders.Order url:orders_order_open_issue",
    "orders.Order url:orders_order_start_appeasement",
    "orders.Order url:orders_order_record_refund",
    "orders.Order url:orders_order_find",
    "issues.ApprovalRequest url:issues_approvalrequest_approve_from_list",
    "issues.ApprovalRequest url:issues_approvalrequest_reject_from_list",
)
def _buttons_that_open_a_form(p):
    """django-unfold's detail and row actions that only open a form (the form writes, and is driven itself), and
    the index's search, which only opens what it finds."""
    order = order_with_items()
    issue = issue_factory(order, assigned_to=p["agent"])
    approval = ApprovalRequest.objects.create(
        kind="escalation", issue=issue, target_type="issue", target_id=issue.issue_id, requested_by=p["agent"],
        requested_status="escalated",
    )  # fmt: skip
    manager = logged_in(p["manager"])
    return [
        NoWrite(lambda: manager.get(reverse("admin:orders_order_open_issue", args=[order.pk]))),
        NoWrite(lambda: manager.get(reverse("admin:orders_order_start_appeasement", args=[order.pk]))),
        NoWrite(lambda: manager.get(reverse("admin:orders_order_record_refund", args=[order.pk]))),
        NoWrite(lambda: manager.get(reverse("admin:orders_order_find"), {"q": order.order_id})),
        NoWrite(lambda: manager.get(reverse("admin:issues_approvalrequest_approve_from_list", args=[approval.pk]))),
        NoWrite(lambda: manager.get(reverse("admin:issues_approvalrequest_reject_from_list", args=[approval.pk]))),
    ]


@drives("orders.OrderItem change")
def _item_change(p):
    order = order_with_items(items=1, status="accepted")
    item = order.items.get()
    agent = logged_in(p["agent"])
    return [
        Write(
            p["agent"],
            lambda: submit(agent, change_url(item), {"special_instructions": "Ring twice"}),
            lambda: submit(agent, change_url(item), {"special_instructions": "<b>Ring</b>"}),
        )
    ]


@drives("orders.Category add", "orders.Category change")
def _category(p):
    Category.objects.create(name="Existing")
    existing = Category.objects.get(name="Existing")
    mgr, agent = logged_in(p["manager"]), logged_in(p["agent"])

    def refused_add():
        assert agent.post(add_url(Category), {"name": "Toys", "description": "x"}).status_code == 403
        submit(mgr, add_url(Category), {"name": "Existing", "description": "again"})

    return [
        Write(
            p["manager"], lambda: submit(mgr, add_url(Category), {"name": "Toys", "description": "Fun"}), refused_add
        ),
        Write(
            p["manager"],
            lambda: submit(mgr, change_url(existing), {"description": "Changed"}),
            lambda: agent.post(change_url(existing), {"description": "Changed"}),
        ),
    ]


# -- issues


def _issue(p, status=None, **kw):
    kw.setdefault("assigned_to", p["agent"])
    return issue_factory(order_with_items(status="completed"), status=status, actor=p["agent"], **kw)


def _issue_transition(name: str, status: str, who: str, bad_status: str, refused_by: str | None = None):
    """``who`` moves an issue in ``status`` through ``name``; the refused attempts: the same transition from
    ``bad_status``, and (``refused_by``) by an employee without the permission."""

    def drive(p):
        good, bad = _issue(p, status), _issue(p, bad_status)
        client = logged_in(p[who])

        def refused():
            client.post(transition_url(bad, name), {"notes": "Trying"})
            if refused_by:
                logged_in(p[refused_by]).post(transition_url(good, name), {"notes": "Trying"})

        return [Write(p[who], lambda: client.post(transition_url(good, name), {"notes": "Done it"}), refused)]

    return drive


drives("issues.OrderIssue transition:investigate")(_issue_transition("investigate", "open", "agent", "resolved"))
drives("issues.OrderIssue transition:start_work")(_issue_transition("start_work", "investigating", "agent", "open"))
drives("issues.OrderIssue transition:back_to_open")(
    _issue_transition("back_to_open", "investigating", "agent", "in_progress")
)
drives("issues.OrderIssue transition:close")(_issue_transition("close", "resolved", "manager", "open", "agent"))


@drives("issues.OrderIssue transition:resolve")
def _issue_resolve(p):
    issue, escalated = _issue(p, "in_progress"), _issue(p, "escalated")
    agent, mgr = logged_in(p["agent"]), logged_in(p["manager"])
    return [
        Write(
            p["agent"],
            lambda: agent.post(transition_url(issue, "resolve"), {"notes": "Refunded the item"}),
            lambda: agent.post(transition_url(issue, "resolve"), {"notes": ""}),  # notes are required
        ),
        Write(
            p["manager"],
            lambda: mgr.post(transition_url(escalated, "resolve"), {"notes": "Settled"}),
            lambda: agent.post(transition_url(escalated, "resolve"), {"notes": "Settled"}),  # managers only
        ),
    ]


def _issue_needing_approval(name: str, status: str, bad_status: str):
    """A manager moves the issue directly; an agent's attempt is an approval request (audited too)."""

    def drive(p):
        direct, requested, bad = _issue(p, status), _issue(p, status), _issue(p, bad_status)
        agent, mgr = logged_in(p["agent"]), logged_in(p["manager"])
        return [
            Write(
                p["manager"],
                lambda: mgr.post(transition_url(direct, name), {"notes": "Directly"}),
                lambda: mgr.post(transition_url(bad, name), {"notes": "Not from here"}),
            ),
            Write(p["agent"], lambda: agent.post(transition_url(requested, name), {"notes": "Please"})),
        ]

    return drive


drives("issues.OrderIssue transition:escalate")(_issue_needing_approval("escalate", "in_progress", "closed"))
drives("issues.OrderIssue transition:reopen")(_issue_needing_approval("reopen", "closed", "open"))


@drives("issues.OrderIssue add")
def _issue_add(p):
    order = order_with_items(status="completed")
    agent = logged_in(p["agent"])
    data = {"order": order.pk, "issue_type": "late_delivery", "title": "Late", "priority": "medium", "notes": "Called"}
    return [
        Write(
            p["agent"],
            lambda: agent.post(add_url(OrderIssue), data),
            lambda: agent.post(add_url(OrderIssue), {**data, "assigned_to": p["root"].pk}),  # not assignable
        )
    ]


@drives("issues.OrderIssue change", "issues.OrderIssue inline:issues.IssueNote")
def _issue_change(p):
    issue, closed = _issue(p, "open", priority="low"), _issue(p, "closed")
    agent = logged_in(p["agent"])
    note = {
        "notes-TOTAL_FORMS": "1",
        "notes-0-kind": "customer_contact",
        "notes-0-channel": "phone",
        "notes-0-body": "Called the customer back",
        "notes-0-issue": "",
    }
    return [
        Write(
            p["agent"],
            lambda: submit(agent, change_url(issue), {"priority": "high", "notes": "Customer called twice", **note}),
            # raising the priority needs notes: refused, and the note in the same form is not added either
            lambda: submit(agent, change_url(issue), {"priority": "critical", "notes": "", **note}),
        ),
        Write(
            p["agent"],
            lambda: submit(agent, change_url(closed), note),  # a note alone
        ),
    ]


@drives("issues.OrderIssue action:assign_to_me")
def _issue_assign_to_me(p):
    issues = [_issue(p, "open", assigned_to=p["other"]) for _ in range(2)]
    agent, viewer = logged_in(p["agent"]), logged_in(p["viewer"])
    return [
        Write(
            p["agent"],
            lambda: action(agent, OrderIssue, "assign_to_me", issues),
            lambda: action(viewer, OrderIssue, "assign_to_me", issues),  # may read issues, not change them
        )
    ]


@drives("issues.OrderIssue url:issues_orderissue_refund")
def _issue_refund(p):
    issue = _issue(p, "in_progress")
    url = reverse("admin:issues_orderissue_refund", args=[issue.pk])
    agent = logged_in(p["agent"])
    return [
        Write(
            p["agent"],
            lambda: agent.post(
                url, {"amount": "5.00", "source": "merchant", "notes": "Partial refund", "form_key": "k1"}
            ),
            lambda: agent.post(url, {"amount": "500.00", "source": "merchant", "notes": "All of it", "form_key": "k2"}),
        )
    ]


def _pending_escalation(p) -> ApprovalRequest:
    issue = _issue(p, "in_progress")
    issue_services.issue_transition(issue=issue, actor=p["agent"], transition_name="escalate", notes="Please")
    return ApprovalRequest.objects.get(issue=issue)


def _decisions(make_pending: Callable):
    """A manager approves one pending object and rejects another through the note form; refused: an empty
    note, and an agent deciding."""

    def drive(p):
        writes = []
        for verb in ("approve", "reject"):
            pending = make_pending(p)
            mgr, agent = logged_in(p["manager"]), logged_in(p["agent"])

            def refused(pending=pending, verb=verb, mgr=mgr, agent=agent):
                mgr.post(transition_url(pending, verb), {"note": ""})  # the note is required
                agent.post(transition_url(pending, verb), {"note": "Me"})  # managers only

            def do(pending=pending, verb=verb, mgr=mgr):
                return mgr.post(transition_url(pending, verb), {"note": "Ok"})

            writes.append(Write(p["manager"], do, refused, verb))
        return writes

    return drive


drives("issues.ApprovalRequest transition:approve", "issues.ApprovalRequest transition:reject")(
    _decisions(_pending_escalation)
)


# -- appeasements


def _appeasement(p, amount: str, *, submit_it: bool = False) -> Appeasement:
    order = order_with_items(items=2, unit_price=Decimal("50.00"), status="completed")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {Token.objects.get_or_create(user=p['agent'])[0].key}")
    body = {
        "orderId": order.order_id,
        "reason": "incorrectItem",
        "appeasementRefunds": [{"refundType": "externalRefund", "amount": Decimal(amount), "currencyCode": "USD"}],
    }
    r = client.post("/ccagent/v1/appeasements" + ("/submit" if submit_it else ""), body, format="json")
    assert r.status_code in (200, 201), r.content
    return Appeasement.objects.get(appeasement_id=r.json()["id"])


@drives("appeasements.Appeasement transition:submit")
def _appeasement_submit(p):
    draft, done = _appeasement(p, "10.00"), _appeasement(p, "10.00", submit_it=True)
    agent = logged_in(p["agent"])
    return [Write(p["agent"], lambda: button(agent, draft, "submit"), lambda: button(agent, done, "submit"))]


def _pending_appeasement(p) -> Appeasement:
    pending = _appeasement(p, "30.00", submit_it=True)  # over the 20% policy: waits for a manager
    assert pending.state == "PENDING_APPROVAL"
    return pending


drives("appeasements.Appeasement transition:approve", "appeasements.Appeasement transition:reject")(
    _decisions(_pending_appeasement)
)


def _reference_data(model, add: dict, change: dict):
    """Managed lists (reasons, refund types, return codes): a manager adds and changes, an agent may not."""

    def drive(p):
        existing = model._base_manager.order_by("pk").first()
        mgr, agent = logged_in(p["manager"]), logged_in(p["agent"])
        return [
            Write(
                p["manager"],
                lambda: submit(mgr, add_url(model), add),
                lambda: agent.post(add_url(model), add),
                "add",
            ),
            Write(
                p["manager"],
                lambda: submit(mgr, change_url(existing), change),
                lambda: agent.post(change_url(existing), change),
                "change",
            ),
        ]

    return drives(f"{model._meta.label} add", f"{model._meta.label} change")(drive)


_reference_data(
    AppeasementReason, {"code": "lateParcel", "description": "Late parcel", "active": "on"}, {"description": "X"}
)
_reference_data(
    RefundType,
    {"code": "voucher", "description": "Voucher", "ledger_source": "store_credit", "active": "on"},
    {"description": "Changed"},
)
_reference_data(
    ReturnReason,
    {"code": "2999", "kind": "return", "description": "Other", "is_active": "on"},
    {"description": "Changed"},
)


@drives(
    "orders.RefundLimit add",
    "orders.RefundLimit change",
    "orders.RefundLimit delete",
    "orders.RefundLimit action:delete_selected",
)
def _refund_limit(p):
    model = RefundLimit
    mgr, agent = logged_in(p["manager"]), logged_in(p["agent"])
    limits = {}

    def add():
        r = submit(mgr, add_url(model), {"employee": p["agent"].pk, "role": "", "limit": "25.00"})
        limits["a"] = model.objects.get(employee=p["agent"])
        return r

    def change():
        return submit(mgr, change_url(limits["a"]), {"employee": p["agent"].pk, "role": "", "limit": "30.00"})

    def delete_url():
        return reverse("admin:orders_refundlimit_delete", args=[limits["a"].pk])

    def delete():
        return mgr.post(delete_url(), {"post": "yes"})

    def bulk_delete():
        limits["b"] = model.objects.create(employee=p["other"], limit=Decimal("10.00"))
        return "prepared"

    def own_limit():  # a manager never sets the limit that binds themselves
        return mgr.post(add_url(model), {"employee": p["manager"].pk, "role": "", "limit": "99999.00"})

    return [
        Write(p["manager"], add, own_limit, "add"),
        Write(p["manager"], change, lambda: submit(mgr, change_url(limits["a"]), {"limit": "-5"}), "change"),
        Write(p["manager"], delete, lambda: agent.post(delete_url(), {"post": "yes"}), "delete"),
        SetUp(bulk_delete),
        Write(
            p["manager"],
            lambda: action(mgr, model, "delete_selected", [limits["b"]]),
            lambda: action(agent, model, "delete_selected", [limits["b"]]),
            "delete_selected",
        ),
    ]


@drives("config.ServiceAccount add", "config.ServiceAccount change")
def _service_grants(p):
    """Only an administrator grants a service account whom to act for and which webhook accounts."""
    service = employee("svc_audit", "service")
    grant = ServiceAccount.objects.create(user=service)
    root, mgr = logged_in(p["root"]), logged_in(p["manager"])
    fresh = User.objects.create_user("svc_fresh")
    fresh.groups.add(*service.groups.all())
    grants = {"act_for": ["agent", "manager"], "accounts": "5e3598e3007c5e00080d2bb8"}
    return [
        Write(
            p["root"],
            lambda: submit(root, add_url(ServiceAccount), {"user": fresh.pk, "act_for": ["agent"], "accounts": ""}),
            lambda: mgr.post(add_url(ServiceAccount), {"user": fresh.pk, "act_for": ["agent"]}),
            "add",
        ),
        Write(
            p["root"],
            lambda: submit(root, change_url(grant), grants),
            lambda: mgr.post(change_url(grant), grants),
            "change",
        ),
    ]


# -- returns


@drives("returns.Return url:returns_return_record")
def _return_record(p):
    order = order_with_items(items=2, unit_price=Decimal("20.00"), status="completed")
    item = order.items.order_by("line_number").first()
    url = reverse("admin:returns_return_record", args=[order.pk])
    agent = logged_in(p["agent"])
    data = {"reason": ReturnReason.objects.get(code="2001").pk, "message": "Broken", "refund": "on", "form_key": "k1"}
    return [
        Write(
            p["agent"],
            lambda: agent.post(url, {**data, f"qty_{item.pk}": "1"}),
            lambda: agent.post(url, {**data, f"qty_{item.pk}": "5"}),  # more than bought
        )
    ]


# -- webhooks


def _subscription(p) -> Subscription:
    return webhook_services.subscription_create(
        actor=p["manager"],
        url="https://hooks.example.com/a",
        description="",
        account=settings.DEFAULT_ACCOUNT_ID,
        event_types=[],
        active=True,
    ).subscription


SUB_FORM = {"url": "https://hooks.example.com/new", "description": "New", "event_types": "[]", "active": "on"}


@drives("webhooks.Subscription add", "webhooks.Subscription change")
def _subscription_add_change(p):
    existing = _subscription(p)
    mgr, agent = logged_in(p["manager"]), logged_in(p["agent"])
    return [
        Write(
            p["manager"],
            lambda: submit(mgr, add_url(Subscription), SUB_FORM),
            lambda: submit(mgr, add_url(Subscription), {**SUB_FORM, "url": "https://127.0.0.1/private"}),
            "add",
        ),
        Write(
            p["manager"],
            lambda: submit(mgr, change_url(existing), {"description": "Changed"}),
            lambda: agent.post(change_url(existing), SUB_FORM),
            "change",
        ),
    ]


@drives("webhooks.Subscription delete", "webhooks.Subscription action:delete_selected")
def _subscription_delete(p):
    one, two = _subscription(p), _subscription(p)
    mgr, agent = logged_in(p["manager"]), logged_in(p["agent"])
    delete_url = reverse("admin:webhooks_subscription_delete", args=[one.pk])
    return [
        Write(p["manager"], lambda: mgr.post(delete_url, {"post": "yes"}), lambda: agent.post(delete_url, {})),
        Write(
            p["manager"],
            lambda: action(mgr, Subscription, "delete_selected", [two]),
            lambda: action(agent, Subscription, "delete_selected", [two]),
        ),
    ]


def _subscription_action(name: str, disabled: bool = False):
    def drive(p):
        sub = _subscription(p)
        if disabled:
            webhook_services.subscription_update(actor=p["manager"], subscription=sub, changes={"active": False})
        mgr, agent = logged_in(p["manager"]), logged_in(p["agent"])
        return [
            Write(
                p["manager"],
                lambda: action(mgr, Subscription, name, [sub]),
                lambda: action(agent, Subscription, name, [sub]),
            )
        ]

    return drives(f"webhooks.Subscription action:{name}")(drive)


@drives("webhooks.Subscription action:send_test_event")
def _subscription_send_test(p):
    """A test event is an outbox event and a delivery, neither with history: no tracked row changes."""
    sub = _subscription(p)
    mgr, agent = logged_in(p["manager"]), logged_in(p["agent"])
    return [
        NoTrackedWrite(
            lambda: action(mgr, Subscription, "send_test_event", [sub]),
            lambda: action(agent, Subscription, "send_test_event", [sub]),
        )
    ]


_subscription_action("rotate_secret")
_subscription_action("reactivate", disabled=True)


@drives("webhooks.Delivery action:send_again")
def _delivery_send_again(p):
    """Deliveries have no history; sending one again must not change a tracked row without history either
    (the test event itself creates the delivery)."""
    sub = _subscription(p)
    webhook_services.subscription_send_test(actor=p["manager"], subscription=sub)
    delivery = Delivery.objects.get(subscription=sub)
    assert not is_tracked(Delivery)
    mgr, agent = logged_in(p["manager"]), logged_in(p["agent"])
    return [
        NoTrackedWrite(
            lambda: action(mgr, Delivery, "send_again", [delivery]),
            lambda: action(agent, Delivery, "send_again", [delivery]),
        )
    ]


# -- admin forms that look like writes but write nothing (every write on these pages is a button above)


def _writes_nothing(make: Callable, who: str = "manager"):
    def drive(p):
        obj = make(p)
        client = logged_in(p[who])
        return [NoWrite(lambda: submit(client, change_url(obj)))]

    return drive


drives("orders.Order change")(_writes_nothing(lambda p: order_with_items(status="pending")))
drives("issues.ApprovalRequest change")(_writes_nothing(_pending_escalation))
drives("appeasements.Appeasement change")(_writes_nothing(lambda p: _appeasement(p, "10.00"), "agent"))


@drives("returns.Return add")
def _return_add(p):
    """ "Add return" only asks for the order and redirects to the record form (driven above)."""
    order = order_with_items(status="completed")
    client = logged_in(p["agent"])
    return [NoWrite(lambda: client.post(add_url(Return) + f"?order={order.order_id}"))]


# --------------------------------------------------------------------------- the tests


def untracked(key: str) -> bool:
    from django.apps import apps

    return not is_tracked(apps.get_model(key.split()[0]))


def test_every_admin_write_is_driven():
    """A new admin action, transition, page or form fails here until it has a driver (or writes only
    models without history)."""
    surface = admin_write_surface() - READ_ONLY_URLS
    assert set(DRIVERS) - surface == set(), "drivers for writes the admin no longer offers"
    missing = {key for key in surface - set(DRIVERS) if not untracked(key)}
    assert missing == set(), "admin writes to history-tracked models without an audit test"


@pytest.mark.parametrize("key", sorted(DRIVERS))
def test_admin_write_leaves_history_with_the_employee_and_a_reason(key, people):
    for step in DRIVERS[key](people):
        if isinstance(step, SetUp):
            step.do()
            continue
        label = f"{key} {getattr(step, 'label', '')}".strip()
        refused = getattr(step, "refused", None)
        if refused is not None:
            audit = Audit()
            refused()
            audit.assert_nothing(f"{label} (refused)")
        audit = Audit()
        response = step.do()
        assert response.status_code in (200, 302), f"{label}: {response.status_code}"
        if isinstance(step, Write):
            audit.assert_by(step.actor, label=label)
        elif isinstance(step, NoWrite | NoTrackedWrite):
            audit.assert_nothing(label)


@pytest.mark.parametrize("key", sorted(READ_ONLY_URLS))
def test_read_only_admin_pages_write_nothing(key, people):
    name = key.split("url:")[1]
    audit = Audit()
    assert logged_in(people["manager"]).get(reverse(f"admin:{name}")).status_code == 200
    audit.assert_nothing(key)


def test_admins_of_models_without_history_are_only_those():
    """The admin pages left to the generic check write models that have no history at all.

    Employees (auth.User) are never deleted in the admin, not even by a superuser (config/admin.py): a deletion
    would cascade to tracked rows without a change reason and blank the name on their history rows."""
    from django.apps import apps

    left = {key.split()[0] for key in admin_write_surface() - set(DRIVERS) - READ_ONLY_URLS}
    assert all(not is_tracked(apps.get_model(label)) for label in left), left
