"""Authorization matrix of the admin (issue 6): every page of every registered ModelAdmin x every kind of caller.

The rows are generated from ``admin.site._registry``, each admin's ``get_urls()``, its actions and its FSM
transitions; EXPECTED says who may do what. A newly registered admin, URL, action or transition without a row
fails ``test_every_admin_page_has_a_row``.

Callers: anonymous, an agent (who created the issue, the appeasement and the approval request and is their
assignee and a notification's recipient), another agent, a manager, a service account (API only, not staff) and
a fabric API key's headers. "Another agent" may do on the issue and the approval request what the agent may: the
queue is shared, as in the API (tests/hardening/test_authorization_matrix.py lets any agent read and update any
issue). An appeasement is its agent's: another agent reads it but may not submit it (nor, in the API, change or
delete it). Notifications are personal: another agent's are hidden. A service account never reaches the admin,
on anyone's behalf: it is not staff, so every page sends it to the login ("login" below), and the admin has no
way to name another employee.

Outcomes:
``ok``     GET 200, or POST accepted (302 back to the admin, no error message, something was written);
``login``  302 to the admin login (not staff, not logged in: the service account and the fabric key);
``403``    403 (staff without the model permission);
``back``   302 to an admin page with an error message (the admin offers no such action or the workflow refuses);
``hidden`` 302 to the admin index "does not exist" (a row the caller may not see);
``ignored`` the changelist again (200, or 302 "No action selected"): an action the caller is not offered;
``405``    the page only reads.
Every refusal writes nothing (all registered models compared before and after) and shows no secret.
"""

from __future__ import annotations

import html.parser
import json
import re
from decimal import Decimal

import pytest
from django.apps import apps
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.messages import ERROR, get_messages
from django.db import models, transaction
from django.test import Client, RequestFactory
from django.urls import reverse
from django.utils import timezone
from django_fsm import FSMFieldMixin
from rest_framework.authtoken.models import Token

from appeasements import services as appeasement_services
from appeasements.models import AppeasementReason, RefundType
from config.models import ServiceAccount
from issues import services as issue_services
from issues.models import ApprovalRequest, Notification
from orders import services as order_services
from orders.models import Category, RefundLimit
from returns.models import AccountAPIKey, ReturnReason
from tests.factories import CategoryFactory, employee, issue_factory, order_with_items, return_factory
from webhooks.models import Delivery, OutboxEvent, Subscription

ACCOUNT = "5e3598e3007c5e00080d2bb8"
# service_managers: a service account granted to act for managers too; the admin still has no page for it
CALLERS = ("anonymous", "agent", "other_agent", "manager", "service", "service_managers", "fabric")
STAFF = ("agent", "other_agent", "manager")
AGENTS = frozenset(STAFF)
MANAGER = frozenset({"manager"})
NOBODY = frozenset()

pytestmark = pytest.mark.django_db


# --------------------------------------------------------------------------- the world, built once per module


def _build_world() -> dict:
    people = {
        "agent": employee("emp_cs_001", "agent"),
        "other_agent": employee("emp_cs_002", "agent"),
        "manager": employee("emp_mgr_001", "manager"),
        "service": employee("svc_storefront", "service"),
        "service_managers": employee("svc_backoffice", "service"),
    }
    ServiceAccount.objects.create(user=people["service_managers"], act_for=["agent", "manager"], accounts=[ACCOUNT])
    root = get_user_model().objects.create_superuser("root", "root@example.com", "pw")
    agent, manager = people["agent"], people["manager"]
    CategoryFactory(name="Home")
    done = order_with_items(items=2, unit_price=Decimal("20.00"), status="completed", account=ACCOUNT, channel=12)
    orders = {s: order_with_items(items=1, status=s, account=ACCOUNT) for s in ("pending", "accepted", "in_progress")}
    issues = {
        s: issue_factory(done, actor=agent, assigned_to=agent, status=s)
        for s in ("open", "investigating", "in_progress", "resolved", "closed")
    }
    unassigned = issue_factory(done, actor=agent, status="open")
    requested = issue_factory(done, actor=agent, assigned_to=agent, status="in_progress")
    issue_services.issue_update(
        order_id=done.order_id,
        issue_id=requested.issue_id,
        actor=agent,
        changes={"status": "escalated", "notes": "Needs a manager"},
    )
    approval = ApprovalRequest.objects.get(issue=requested, state="pending")
    notification = Notification.objects.create(
        recipient=agent, kind="assigned", issue=issues["open"], message="secret-note-for-emp_cs_001"
    )

    def appeasement(amount: str, *, submit: bool = False):
        made = appeasement_services.appeasement_create(
            caller=agent,
            data=appeasement_services.AppeasementInput(
                order_id=done.order_id,
                reason="incorrectItem",
                refunds=[appeasement_services.RefundInput(refund_type="externalRefund", amount=Decimal(amount))],
                given={"orderId", "reason", "appeasementRefunds"},
            ),
        )
        if submit:
            made = appeasement_services.appeasement_submit(appeasement_id=made.appeasement_id, caller=agent)
        return made

    draft = appeasement("2.00")
    over_policy = appeasement("20.00", submit=True)
    assert over_policy.state == "PENDING_APPROVAL", over_policy.state
    refund = order_services.refund_record(order=done, actor=agent, amount=Decimal("1.00"), source="merchant")
    ret = return_factory(done, actor=agent)
    subscription = Subscription.objects.create(url="https://hooks.example.com/in", account=ACCOUNT, created_by=manager)
    stopped = Subscription.objects.create(
        url="https://hooks.example.com/off", account=ACCOUNT, active=False, disabled_at=timezone.now()
    )
    event = OutboxEvent.objects.create(type="order.cancelled", account=ACCOUNT, order_key=done.order_id, body="{}")
    delivery = Delivery.objects.create(
        event=event, subscription=subscription, stream_key=done.order_id, seq=event.pk, status="delivered"
    )
    from axes.models import AccessAttempt, AccessFailureLog, AccessLog
    from django_tasks_db.models import DBTaskResult
    from rest_framework_api_key.models import APIKey

    axes_row = {"user_agent": "x", "ip_address": "10.0.0.1", "username": "emp_cs_001", "http_accept": "*/*"}
    axes_row |= {"path_info": "/admin/login/", "attempt_time": timezone.now()}
    fabric_key_obj, fabric_key = AccountAPIKey.objects.create_key(name="storefront", account=ACCOUNT)
    api_key_obj, api_key = APIKey.objects.create_key(name="plain")
    objects = {
        "appeasements.Appeasement": draft,
        "appeasements.AppeasementReason": AppeasementReason.objects.get(code="incorrectItem"),
        "appeasements.RefundType": RefundType.objects.get(code="externalRefund"),
        "auth.Group": agent.groups.first(),
        "auth.User": agent,
        "authtoken.TokenProxy": agent,  # DRF's token admin names a token by its user's pk
        "axes.AccessAttempt": AccessAttempt.objects.create(
            **axes_row, get_data="", post_data="", failures_since_start=1
        ),
        "axes.AccessFailureLog": AccessFailureLog.objects.create(**axes_row),
        "config.ServiceAccount": ServiceAccount.objects.create(user=people["service"], accounts=[ACCOUNT]),
        "axes.AccessLog": AccessLog.objects.create(**axes_row),
        "django_tasks_database.DBTaskResult": DBTaskResult.objects.create(
            enqueued_at=timezone.now(),
            run_after=timezone.now(),
            args_kwargs={"args": [], "kwargs": {}},
            task_path="config.tasks.noop",
            backend_name="default",
            exception_class_path="",
            traceback="",
        ),
        "issues.ApprovalRequest": approval,
        "issues.Notification": notification,
        "issues.OrderIssue": issues["in_progress"],
        "orders.Category": Category.objects.get(name="Home"),
        "orders.Order": done,
        "orders.OrderItem": done.items.first(),
        "orders.Refund": refund,
        "orders.RefundLimit": RefundLimit.objects.create(employee=agent, limit=Decimal("50")),
        "rest_framework_api_key.APIKey": api_key_obj,
        "returns.AccountAPIKey": fabric_key_obj,
        "returns.Return": ret,
        "returns.ReturnReason": ReturnReason.objects.get(code="2001"),
        "webhooks.Delivery": delivery,
        "webhooks.OutboxEvent": event,
        "webhooks.Subscription": subscription,
    }
    for obj in objects.values():  # rows seeded by data migrations have no history row yet: give them one
        if hasattr(obj, "history") and not obj.history.exists():
            obj.save()
    extra = {f"order_{s}": o for s, o in orders.items()}
    extra |= {f"issue_{s}": i for s, i in issues.items()}
    extra |= {"issue_unassigned": unassigned, "appeasement_pending": over_policy, "subscription_off": stopped}
    secrets = [
        done.customer_email,
        subscription.secret,
        Token.objects.get(user=agent).key,
        fabric_key,
        api_key,
        notification.message,
    ]
    return {
        "people": people,
        "root": root,
        "fabric_key": fabric_key,
        "objects": objects,
        "extra": extra,
        "secrets": secrets,
    }


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    """Built once in a transaction that is rolled back after the module; each test runs in a savepoint."""
    with django_db_blocker.unblock():
        outer = transaction.atomic()
        outer.__enter__()
        try:
            yield _build_world()
        finally:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)


# --------------------------------------------------------------------------- the rows, from the registry


def _label(model) -> str:
    return model._meta.label


REGISTRY = {_label(m): ma for m, ma in admin.site._registry.items()}


def _transitions(model_admin) -> list[tuple[str, object]]:
    """(name, transition) of every transition method of the admin's FSM fields, one per method."""
    found = {}
    for field_name in getattr(model_admin, "fsm_fields", []):
        field = model_admin.model._meta.get_field(field_name)
        for t in field.get_all_transitions(model_admin.model):
            found.setdefault(t.name, t)
    return sorted(found.items())


def pages_of(label: str) -> list[str]:
    """Every page of one admin: its URL names (minus the model prefix), actions and transitions."""
    ma = REGISTRY[label]
    opts = ma.model._meta
    prefix = f"{opts.app_label}_{opts.model_name}_"
    pages = []
    for pattern in ma.get_urls():
        name = pattern.name
        if name is None:  # the catch-all redirect to the change page
            continue
        if name == prefix + "transition":
            pages += [f"transition:{t}" for t, _ in _transitions(ma)]
            continue
        if name == prefix + "simple_history":
            pages.append("simple_history:post")
        pages.append(name.removeprefix(prefix) if name.startswith(prefix) else name)
    pages += [f"action:{name}" for _func, name, _description in ma._get_base_actions()]
    return pages


ROWS = sorted((label, page) for label in REGISTRY for page in pages_of(label))


def row(allowed=NOBODY, refusal="403", **per_caller) -> dict[str, str]:
    outcome = {c: "login" for c in CALLERS}
    outcome |= {c: ("ok" if c in allowed else refusal) for c in STAFF}
    return outcome | per_caller


def model_pages(
    view=AGENTS,
    add=NOBODY,
    change_form=None,
    delete=NOBODY,
    history=True,
    delete_selected=None,
) -> dict[str, dict]:
    """The standard pages: changelist, change, history, delete, add and the delete_selected action.

    ``view`` may open the changelist, a row and its history; an action they are not offered is 'ignored' (the
    changelist again), for the others it is 403.
    """
    pages = {
        "changelist": row(view),
        "change": row(view if change_form is None else change_form),
        "history": row(view),
        "add": row(add),
        "delete": row(delete),
        "action:delete_selected": row(
            delete if delete_selected is None else delete_selected,
            **{c: "ignored" for c in view if c not in (delete if delete_selected is None else delete_selected)},
        ),
    }
    if history:
        pages["simple_history"] = row(view)
        pages["simple_history:post"] = row(NOBODY, "405")
    return pages


def moves(allowed=AGENTS, refusal="403") -> dict[str, str]:
    """A button that opens another page (django-unfold's row and detail actions): a redirect, never a write."""
    return row(allowed, refusal) | {c: "moves" for c in allowed}


def _nobody(history=False, **more) -> dict[str, dict]:
    return model_pages(view=NOBODY, history=history) | more


EXPECTED: dict[str, dict[str, dict]] = {
    "appeasements.Appeasement": model_pages()
    | {
        # an appeasement is its agent's: another agent is offered no Submit button and is sent back
        "transition:submit": row({"agent", "manager"}, "back"),
        "transition:request_approval": row(NOBODY, "back"),  # not an admin button: the service decides it
        "transition:approve": row(MANAGER, "back"),
        "transition:reject": row(MANAGER, "back"),
    },
    "appeasements.AppeasementReason": model_pages(add=MANAGER),
    "appeasements.RefundType": model_pages(add=MANAGER),
    "auth.Group": _nobody(),
    "auth.User": _nobody(password_change=row()),
    "authtoken.TokenProxy": _nobody(),
    "axes.AccessAttempt": _nobody(**{"action:cleanup_expired_attempts": row()}),
    "axes.AccessFailureLog": _nobody(),
    "config.ServiceAccount": _nobody(history=True),  # administrators only
    "axes.AccessLog": _nobody(),
    "django_tasks_database.DBTaskResult": _nobody(),
    "issues.ApprovalRequest": model_pages()
    | {
        "transition:approve": row(MANAGER),
        "transition:reject": row(MANAGER),
        "transition:cancel": row(NOBODY, manager="back"),  # the requester cancels through the API
        # the inbox row's Approve and Reject open the decision form (its note, four eyes)
        "approve_from_list": moves(MANAGER),
        "reject_from_list": moves(MANAGER),
    },
    "issues.Notification": model_pages(history=False)
    | {"change": row(AGENTS, other_agent="hidden"), "history": row(AGENTS, other_agent="hidden")},
    "issues.OrderIssue": model_pages(add=AGENTS)
    | {
        "issues_dashboard": row(MANAGER),
        "refund": row(AGENTS),
        "action:assign_to_me": row(AGENTS),
        # agents may move an issue along the ordinary transitions; reopen and escalate become requests
        **{f"transition:{t}": row(AGENTS) for t in ("back_to_open", "investigate", "start_work", "resolve")},
        "transition:reopen": row(AGENTS),
        "transition:escalate": row(AGENTS),
        "transition:close": row(MANAGER, "back"),
    },
    "orders.Category": model_pages(add=MANAGER),
    "orders.Order": model_pages()
    | {
        "refund": row(AGENTS),
        "appeasement": row(AGENTS),  # the goodwill form (appeasements.services.appeasement_create)
        "open_issue": moves(),  # to the issue form, the order filled in
        "start_appeasement": moves(),  # to the goodwill form
        "record_refund": moves(),  # to the refund form
        "find": moves(),  # the index's search: to the one order (or issue) it finds, else to the list
        **{f"transition:{t}": row(MANAGER) for t in ("accept", "start", "complete", "cancel")},
        # returns move the order through returns.services, never a button
        "transition:return_partially": row(NOBODY, manager="back"),
        "transition:return_fully": row(NOBODY, manager="back"),
    },
    "orders.OrderItem": model_pages(),
    "orders.Refund": model_pages(),
    "orders.RefundLimit": model_pages(view=MANAGER, add=MANAGER, delete=MANAGER),
    "rest_framework_api_key.APIKey": _nobody(),
    "returns.AccountAPIKey": _nobody(),
    "returns.Return": model_pages(add=AGENTS) | {"record": row(AGENTS)},
    "returns.ReturnReason": model_pages(add=MANAGER),
    "webhooks.Delivery": model_pages(view=MANAGER, history=False) | {"action:send_again": row(MANAGER)},
    "webhooks.OutboxEvent": model_pages(view=MANAGER, history=False),
    "webhooks.Subscription": model_pages(view=MANAGER, add=MANAGER, delete=MANAGER, history=False)
    | {f"action:{a}": row(MANAGER) for a in ("send_test_event", "rotate_secret", "reactivate")},
}

# The row a page acts on, where it is not the model's one in world["objects"].
TARGETS = {
    ("appeasements.Appeasement", "transition:approve"): "appeasement_pending",
    ("appeasements.Appeasement", "transition:reject"): "appeasement_pending",
    ("issues.OrderIssue", "transition:back_to_open"): "issue_investigating",
    ("issues.OrderIssue", "transition:investigate"): "issue_open",
    ("issues.OrderIssue", "transition:start_work"): "issue_investigating",
    ("issues.OrderIssue", "transition:resolve"): "issue_in_progress",
    ("issues.OrderIssue", "transition:close"): "issue_resolved",
    ("issues.OrderIssue", "transition:reopen"): "issue_closed",
    ("issues.OrderIssue", "transition:escalate"): "issue_open",
    ("issues.OrderIssue", "action:assign_to_me"): "issue_unassigned",
    ("orders.Order", "transition:accept"): "order_pending",
    ("orders.Order", "transition:start"): "order_accepted",
    ("orders.Order", "transition:cancel"): "order_accepted",
    ("orders.Order", "transition:complete"): "order_in_progress",
    ("orders.Order", "transition:return_partially"): "order_in_progress",
    ("orders.Order", "transition:return_fully"): "order_in_progress",
    ("webhooks.Subscription", "action:reactivate"): "subscription_off",
    # one without deliveries: deleting those needs webhooks.delete_delivery, which nobody holds
    ("webhooks.Subscription", "action:delete_selected"): "subscription_off",
}


def test_every_admin_page_has_a_row():
    """A new admin, URL, action or transition must be added to EXPECTED (and a stale row removed)."""
    generated = {(label, page) for label, page in ROWS}
    expected = {(label, page) for label, pages in EXPECTED.items() for page in pages}
    assert generated - expected == set(), "admin pages without a row in EXPECTED"
    assert expected - generated == set(), "rows in EXPECTED for pages that do not exist"


# --------------------------------------------------------------------------- requests


TRACKED = sorted(
    {ma.model for ma in admin.site._registry.values()}
    | {
        m
        for app in ("orders", "issues", "appeasements", "returns", "webhooks")
        for m in apps.get_app_config(app).get_models()
        if not m._meta.model_name.startswith("historical")  # a write always changes its row too
    },
    key=_label,
)


def fingerprint() -> dict:
    """Every row of every registered model and of the project's apps (a refusal must change none)."""
    return {_label(m): list(m._default_manager.order_by("pk").values_list()) for m in TRACKED}


class FormFields(html.parser.HTMLParser):
    """The values a browser submits from a page's main form (the change form, not the logout or search form)."""

    def __init__(self):
        super().__init__()
        self.data: dict[str, list[str]] = {}
        self.editable: set[str] = set()
        self._in_form = False
        self._select: str | None = None
        self._select_value: str | None = None
        self._first_option: str | None = None
        self._textarea: str | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self._in_form = a.get("id", "").endswith("_form") and a.get("id") != "logout-form"
            return
        if not self._in_form:
            return
        name = a.get("name")
        if tag == "input" and name and a.get("type") not in ("submit", "button", "file", "image"):
            if a.get("type") not in ("hidden",):
                self.editable.add(name)
            if a.get("type") in ("checkbox", "radio") and "checked" not in a:
                return
            self.data.setdefault(name, []).append(a.get("value", "on" if a.get("type") == "checkbox" else ""))
        elif tag == "select" and name:
            self.editable.add(name)
            self._select, self._select_value, self._first_option = name, None, None
        elif tag == "option" and self._select:
            value = a.get("value", "")
            self._first_option = value if self._first_option is None else self._first_option
            if "selected" in a:
                self._select_value = value
        elif tag == "textarea" and name:
            self.editable.add(name)
            self._textarea = name
            self.data.setdefault(name, []).append("")

    def handle_data(self, data):
        if self._textarea:
            self.data[self._textarea][-1] += data

    def handle_endtag(self, tag):
        if tag == "form":
            self._in_form = False
        elif tag == "select" and self._select:
            value = self._select_value if self._select_value is not None else self._first_option
            if value is not None:
                self.data.setdefault(self._select, []).append(value)
            self._select = None
        elif tag == "textarea":
            self._textarea = None


def scrape(client: Client, url: str) -> FormFields:
    r = client.get(url)
    assert r.status_code == 200, (url, r.status_code)
    parser = FormFields()
    parser.feed(r.content.decode())
    return parser


def client_for(world, caller: str) -> Client:
    if caller == "fabric":
        return Client(HTTP_X_API_KEY=world["fabric_key"], HTTP_X_SITE_CONTEXT=json.dumps({"account": ACCOUNT}))
    client = Client()
    if caller in world["people"]:
        client.force_login(world["people"][caller])
    return client


def root_client(world) -> Client:
    client = Client()
    client.force_login(world["root"])
    return client


def _url(label: str, suffix: str, *args, **kwargs) -> str:
    app_label, model = label.lower().split(".")
    return reverse(f"admin:{app_label}_{model}_{suffix}", args=args, kwargs=kwargs or None)


def request_for(world, label: str, page: str) -> tuple[str, str, dict | None]:
    """(method, url, POST data) that opens the page or does what its button does, as a browser would."""
    target = TARGETS.get((label, page))
    obj = world["extra"][target] if target else world["objects"][label]
    ma = REGISTRY[label]
    pk = obj.pk
    if page in ("changelist", "add"):
        return "get", _url(label, page), None
    if page in ("change", "history", "delete"):
        return "get", _url(label, page, pk), None
    if page.startswith("simple_history"):
        version = obj.history.order_by("history_id").first().history_id
        url = _url(label, "simple_history", pk, version)
        if page == "simple_history:post":
            return "post", url, {k: v for k, v in scrape(root_client(world), url).data.items()}
        return "get", url, None
    if page.startswith("action:"):
        data = {"action": page.split(":", 1)[1], "_selected_action": [pk], "index": 0, "post": "yes"}
        return "post", _url(label, "changelist"), data
    if page.startswith("transition:"):
        name = page.split(":", 1)[1]
        transition = dict(_transitions(ma))[name]
        # the form of the transition the object's state picks (an issue has one per source state)
        picked = ma._get_fsm_transition_by_name(obj=obj, transition_name=name)
        if ma.get_fsm_transition_form(picked or transition):
            url = _url(label, "transition", object_id=pk, transition_name=name)
            return "post", url, {"notes": "From the matrix", "note": "From the matrix"}
        data = scrape(root_client(world), _url(label, "change", pk)).data
        return "post", _url(label, "change", pk), {**data, "_fsm_transition_to": name}
    if page == "issues_dashboard":
        return "get", reverse("admin:issues_dashboard"), None
    if page in ("refund", "password_change", "appeasement", "open_issue", "start_appeasement", "record_refund"):
        return "get", _url(label, page, pk), None
    if page == "find":
        return "get", _url(label, page) + f"?q={obj.order_id}", None
    if page in ("approve_from_list", "reject_from_list"):
        return "get", _url(label, page, pk), None
    if page == "record":
        return "get", _url(label, page, obj.order_id), None
    raise AssertionError(f"no request for {label} {page}")


def check(world, caller: str, expected: str, method: str, url: str, data: dict | None) -> str | None:
    """None when the caller got the expected outcome, else what went wrong."""
    client = client_for(world, caller)
    # a GET that is allowed, or turned away by admin_view before any view code runs, cannot write: not compared
    reads = method == "get" and expected in ("ok", "login")
    before = None if reads else fingerprint()
    r = client.post(url, data) if method == "post" else client.get(url)
    after = None if reads else fingerprint()
    location = r.get("Location", "")
    errors = [m.message for m in get_messages(r.wsgi_request) if m.level >= ERROR] if hasattr(r, "wsgi_request") else []
    got = f"{r.status_code} {location} {errors}"
    if expected == "ok":
        if method == "get":
            return None if r.status_code == 200 else got
        if r.status_code not in (200, 302) or "/login/" in location or errors:
            return got
        return None if after != before else f"{got}: accepted but nothing was written"
    body = r.content.decode(errors="replace")
    leaked = [s for s in world["secrets"] if s and s in body and expected != "ignored"]  # a page they may read
    if leaked:
        return f"{got}: the refusal shows {leaked}"
    if after != before:
        changed = [k for k in before if before[k] != after[k]]
        return f"{got}: the refusal wrote {changed}"
    if expected == "login":
        return None if r.status_code == 302 and location.startswith("/admin/login/") else got
    if expected in ("403", "405"):
        return None if r.status_code == int(expected) else got
    if expected == "hidden":
        return None if r.status_code == 302 and location == reverse("admin:index") else got
    if expected == "ignored":
        return None if r.status_code in (200, 302) and "/login/" not in location else got
    if expected == "moves":
        return None if r.status_code == 302 and location.startswith("/admin/") and "/login/" not in location else got
    if expected == "back":
        if r.status_code == 302 and location.startswith("/admin/") and "/login/" not in location:
            shown = [m.message for m in get_messages(r.wsgi_request)]
            return None if shown else f"{got}: refused without saying why"
        return got
    raise AssertionError(expected)


@pytest.mark.parametrize(("label", "page"), ROWS, ids=[f"{label}:{page}" for label, page in ROWS])
def test_admin_matrix(world, label, page):
    outcomes = EXPECTED[label][page]
    problems = {}
    with transaction.atomic():
        method, url, data = request_for(world, label, page)
        transaction.set_rollback(True)
    for caller in CALLERS:
        with transaction.atomic():
            problem = check(world, caller, outcomes[caller], method, url, data)
            if problem:
                problems[caller] = f"expected {outcomes[caller]}, got {problem}"
            transaction.set_rollback(True)
    assert problems == {}, f"{method.upper()} {url}"


# --------------------------------------------------------------------------- lists and secrets


def test_the_admin_index_lets_employees_in_and_keeps_the_rest_out(world):
    for caller in CALLERS:
        r = client_for(world, caller).get(reverse("admin:index"))
        if caller in STAFF:
            assert r.status_code == 200, caller
        else:
            assert r.status_code == 302, caller
            assert r["Location"].startswith("/admin/login/"), caller


def test_another_agents_notifications_are_not_listed(world):
    body = client_for(world, "other_agent").get(_url("issues.Notification", "changelist")).content.decode()
    assert world["objects"]["issues.Notification"].message not in body
    body = client_for(world, "agent").get(_url("issues.Notification", "changelist")).content.decode()
    assert world["objects"]["issues.Notification"].message in body


def test_a_subscription_secret_is_never_shown_again(world):
    subscription = world["objects"]["webhooks.Subscription"]
    for url in (
        _url("webhooks.Subscription", "changelist"),
        _url("webhooks.Subscription", "change", subscription.pk),
        _url("webhooks.Subscription", "history", subscription.pk),
    ):
        assert subscription.secret not in client_for(world, "manager").get(url).content.decode(), url


def test_a_history_version_page_never_saves(world):
    """simple-history saves a POST to a version page for anyone who may *view* the row; ours refuse it."""
    reason = world["objects"]["returns.ReturnReason"]
    url = _url("returns.ReturnReason", "simple_history", reason.pk, reason.history.earliest().history_id)
    r = client_for(world, "agent").post(url, {"description": "Forged by an agent", "kind": "return", "code": "2001"})
    assert r.status_code == 405
    reason.refresh_from_db()
    assert reason.description != "Forged by an agent"


# --------------------------------------------------------------------------- forms never bind forbidden fields

# Who acts and when: a form may never set these, whatever the model (its own id, status and money follow).
ACTOR_AND_HISTORY = {
    "created_by",
    "updated_by",
    "requested_by",
    "decided_by",
    "author",
    "agent",
    "recipient",
    "created_at",
    "updated_at",
    "resolved_at",
    "closed_at",
    "submitted_at",
    "decided_at",
    "reopen_count",
    "revision",
    "status",  # a plain status too (a delivery's), not only the workflow's FSM fields
    "state",
    "secret",
    "previous_secret",
    "hashed_key",
    "prefix",
}
# What an admin exists to set: the agents' refund limits are the managers' policy.
ALLOWED = {"orders.RefundLimit": {"limit"}}


def forbidden_fields(model, *, change: bool) -> set[str]:
    """Ids, money, workflow states, history and actor fields; on a change form also the row's order."""
    names = set()
    for f in model._meta.concrete_fields:
        public_id = f.unique and (f.name.endswith("_id") or f.name == "key")
        money = isinstance(f, models.DecimalField)
        if f.primary_key or public_id or money or isinstance(f, FSMFieldMixin) or f.name in ACTOR_AND_HISTORY:
            names.add(f.name)
        if change and f.name == "order":
            names.add(f.name)
    return names - ALLOWED.get(_label(model), set())


def forged(model, names: set[str], world) -> dict[str, str]:
    """A POST value for each forbidden field, unlike what the row holds (split date/time widgets too)."""
    data = {}
    for name in names:
        f = model._meta.get_field(name)
        if isinstance(f, FSMFieldMixin) or f.choices:
            value = str(f.choices[-1][0])
        elif isinstance(f, models.ForeignKey):
            value = str(world["people"]["other_agent"].pk if f.related_model is get_user_model() else 1)
        elif isinstance(f, models.DecimalField):
            value = "99999.99"
        elif isinstance(f, (models.IntegerField, models.AutoField)):
            value = "424242"
        elif isinstance(f, models.DateTimeField):
            data[f"{name}_0"], data[f"{name}_1"] = "2001-01-01", "00:00:00"
            value = "2001-01-01 00:00:00"
        elif isinstance(f, models.UUIDField):
            value = "00000000-0000-4000-8000-000000000042"
        else:
            value = "FORGED42"[: f.max_length or 8]
        data[name] = value
    return data


def stored(model, pk, names: set[str]) -> dict:
    return model._default_manager.filter(pk=pk).values(*sorted(names)).get()


def _form_class(world, label: str, obj):
    request = RequestFactory().get("/admin/")
    request.user = world["people"]["manager"]
    return REGISTRY[label].get_form(request, obj, change=obj is not None)


CHANGE_FORMS = sorted(label for label, pages in EXPECTED.items() if pages["change"]["manager"] == "ok")
ADD_FORMS = sorted(label for label, pages in EXPECTED.items() if pages["add"]["manager"] == "ok")
# What an add form needs besides the page's defaults (the issue's order is a raw id).
VALID_ADD = {
    "appeasements.AppeasementReason": lambda w: {"code": "matrixReason", "description": "Matrix"},
    "appeasements.RefundType": lambda w: {"code": "matrixType", "description": "Matrix", "ledger_source": "platform"},
    "issues.OrderIssue": lambda w: {
        "order": w["objects"]["orders.Order"].pk,
        "issue_type": "other",
        "title": "From the matrix",
        "priority": "low",
    },
    "orders.Category": lambda w: {"name": "Matrix", "description": "Matrix"},
    "orders.RefundLimit": lambda w: {"employee": w["people"]["other_agent"].pk, "limit": "25.00"},
    "returns.Return": None,  # "Add" picks an order, then the record form (no model form)
    "returns.ReturnReason": lambda w: {"code": "9042", "description": "Matrix"},
    "webhooks.Subscription": lambda w: {"url": "https://hooks.example.com/matrix", "account": ACCOUNT},
}


@pytest.mark.parametrize("label", CHANGE_FORMS)
def test_a_change_form_never_binds_ids_money_status_history_or_actor(world, label):
    obj = world["objects"][label]
    model = type(obj)
    names = forbidden_fields(model, change=True)
    # given: the form the admin builds and the page it renders for the manager (who may change most)
    assert names & set(_form_class(world, label, obj).base_fields) == set()
    client = client_for(world, "manager")
    url = _url(label, "change", obj.pk)
    page = scrape(client, url)
    assert {n for n in page.editable if n in names or n.removesuffix("_0") in names} == set()
    before = stored(model, obj.pk, names)
    # when: a browser posts the page with forged values for them
    r = client.post(url, {**page.data, **forged(model, names, world)})
    # then: saved or refused, the forbidden fields hold what they held (a save moves auto_now times, not to ours)
    assert r.status_code in (200, 302, 403), r.status_code
    after = stored(model, obj.pk, names)
    moving = {f.name for f in model._meta.concrete_fields if getattr(f, "auto_now", False)}
    assert {n: v for n, v in after.items() if n not in moving} == {n: v for n, v in before.items() if n not in moving}
    assert all(after[n].year != 2001 for n in moving & names)


@pytest.mark.parametrize("label", ADD_FORMS)
def test_an_add_form_never_binds_ids_money_status_history_or_actor(world, label):
    model = REGISTRY[label].model
    names = forbidden_fields(model, change=False)
    client = client_for(world, "manager")
    url = _url(label, "add")
    page = scrape(client, url)
    assert {n for n in page.editable if n in names or n.removesuffix("_0") in names} == set()
    if VALID_ADD[label] is None:
        return
    assert names & set(_form_class(world, label, None).base_fields) == set()
    before = set(model._default_manager.values_list("pk", flat=True))
    fake = forged(model, names, world)
    r = client.post(url, {**page.data, **fake, **VALID_ADD[label](world)})
    assert r.status_code == 302, re.findall(r'class="errorlist[^"]*"[^>]*>(.*?)</ul>', r.content.decode(), re.S)
    [pk] = set(model._default_manager.values_list("pk", flat=True)) - before
    row = stored(model, pk, names)
    same = {n: row[n] for n in names if n in fake and str(row[n]) == fake[n]}
    assert same == {}, f"the add form stored forged values: {same}"


def test_a_note_added_on_the_issue_page_is_the_employees_whatever_the_post_says(world):
    issue = world["objects"]["issues.OrderIssue"]
    client = client_for(world, "other_agent")
    url = _url("issues.OrderIssue", "change", issue.pk)
    page = scrape(client, url)
    [body] = [name for name in page.data if name.endswith("-0-body")]
    prefix = body.removesuffix("-body")
    assert f"{prefix}-author" not in page.editable
    forged_author = {f"{prefix}-author": world["people"]["manager"].pk, f"{prefix}-created_at": "2001-01-01"}
    r = client.post(url, {**page.data, body: "Called the customer", **forged_author})
    assert r.status_code == 302
    note = issue.notes.get(body="Called the customer")
    assert note.author == world["people"]["other_agent"]
    assert note.created_at.year != 2001
