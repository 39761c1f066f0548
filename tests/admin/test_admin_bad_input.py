"""The admin never answers 500 to a URL or a filter an agent can type (issue 21, item 2).

- A transition URL with a name that is no transition of the model (``delete``, ``save``, ``__init__``) is a 404,
  on every admin with FSM transitions; a known transition the object's state does not allow keeps its answer.
- A control character (NUL first: PostgreSQL refuses it in text) in any changelist parameter, its name or its
  value (filters, ``q``, ``o``, ``p``, date hierarchy) is an incorrect lookup: the changelist redirects to
  ``?e=1`` with a message, as Django does for a lookup it cannot parse. So is a value that does not fit its
  column (a year 99999, an id past the column's range, a date hierarchy at 9999-12-31). Every registered admin,
  from ``admin.site._registry``: a new one is covered without editing this file.
- The managers' dashboard shows a form error saying which dates are allowed, and the default range's data, for
  dates out of range, malformed, reversed or too far apart.
- An id that cannot name a row (``abc``, ``99999999999999999999``, ``²``) in a change, history, delete,
  version, transition or custom page is a 404 or a redirect with a message.
"""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.contrib.messages import get_messages
from django.contrib.messages.storage.fallback import FallbackStorage
from django.db import models
from django.test import Client, RequestFactory
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django_fsm.admin import FSMAdminMixin
from simple_history import admin as history_admin

from appeasements import services as appeasement_services
from config.admin_mixins import BadInputAdminMixin
from config.models import ServiceAccount
from issues import services as issue_services
from issues.models import ApprovalRequest, Notification, OrderIssue
from orders import services as order_services
from orders.models import Order, RefundLimit
from returns.models import Return
from tests.factories import employee, issue_factory, order_with_items, return_factory
from webhooks.models import Delivery, OutboxEvent, Subscription

pytestmark = pytest.mark.django_db

MODELS = sorted(admin.site._registry, key=lambda m: m._meta.label)
FSM_MODELS = [m for m in MODELS if isinstance(admin.site._registry[m], FSMAdminMixin)]
CONTROL = {"nul": "\x00", "nul_inside": "2026-01-01\x00", "control": "a\x1fb"}
ODD_IDS = ("abc", "99999999999999999999", "-99999999999999999999", "\u00b2", "1.5", "\x00", "1\x00")
NOT_TRANSITIONS = ("delete", "save", "__init__", "refresh_from_db", "no_such_transition", "status")


def _label(model) -> str:
    return model._meta.label


def _url(model, page: str, *args) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{page}", args=args)


@pytest.fixture
def root(db):
    return get_user_model().objects.create_superuser("root", "root@example.com", "pw")


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def rows(agent, manager):
    """A row in the main tables, so that changelists list something and their filters offer values."""
    order = order_with_items(items=2, unit_price=Decimal("20.00"), status="completed", channel=12)
    issue = issue_factory(order, actor=agent, assigned_to=agent, status="in_progress")
    Notification.objects.create(recipient=agent, kind="assigned", issue=issue, message="assigned")
    order_services.refund_record(order=order, actor=agent, amount=Decimal("1.00"), source="merchant")
    return_factory(order, actor=agent)
    escalated = issue_factory(order, actor=agent, assigned_to=agent, status="in_progress")
    issue_services.issue_update(
        order_id=order.order_id, issue_id=escalated.issue_id, actor=agent, changes={"status": "escalated", "notes": "x"}
    )
    appeasement = appeasement_services.appeasement_create(
        caller=agent,
        data=appeasement_services.AppeasementInput(
            order_id=order.order_id,
            reason="incorrectItem",
            refunds=[appeasement_services.RefundInput(refund_type="externalRefund", amount=Decimal("2.00"))],
            given={"orderId", "reason", "appeasementRefunds"},
        ),
    )
    subscription = Subscription.objects.create(url="https://hooks.example.com/in", account="acct", created_by=manager)
    event = OutboxEvent.objects.create(type="order.cancelled", account="acct", order_key=order.order_id, body="{}")
    Delivery.objects.create(event=event, subscription=subscription, stream_key=order.order_id, seq=event.pk)
    ServiceAccount.objects.create(user=employee("svc_storefront", "service"), accounts=[])
    RefundLimit.objects.create(employee=agent, limit=Decimal("50.00"))
    return {
        "order": order,
        "issue": issue,
        "approval": ApprovalRequest.objects.get(issue=escalated, state="pending"),
        "appeasement": appeasement,
    }


def filter_parameters(model_admin, user) -> list[str]:
    """The query string names of the admin's changelist: its filters, date hierarchy, search, ordering, page, and
    one lookup on a column of its own that no filter offers (the changelist applies it as it comes)."""
    request = RequestFactory().get("/")
    request.user = user
    request.session = {}
    request._messages = FallbackStorage(request)
    changelist = model_admin.get_changelist_instance(request)
    names = [name for spec in changelist.filter_specs for name in spec.expected_parameters()]
    if model_admin.date_hierarchy:
        names += [f"{model_admin.date_hierarchy}__{part}" for part in ("year", "month", "day")]
    text = [f.name for f in model_admin.model._meta.fields if isinstance(f, models.CharField) and f.name != "password"]
    return [*names, *text[:1], "q", "o", "p"]


def assert_incorrect_lookup(client: Client, url: str, params: dict) -> None:
    response = client.get(url, params)
    assert response.status_code == 302, (params, response.status_code)
    assert response["Location"] == url + "?e=1", (params, response["Location"])
    messages = [str(m) for m in get_messages(response.wsgi_request)]
    assert any(m.startswith("Incorrect lookup parameters") for m in messages), messages


# --------------------------------------------------------------------------- changelists


def test_every_registered_admin_has_the_guard():
    admin.site.get_urls()  # the site's URLs guard the admins the project does not define (built once at startup)
    unguarded = [_label(m) for m in MODELS if not isinstance(admin.site._registry[m], BadInputAdminMixin)]
    assert unguarded == []
    # the guard adds to each admin, nothing else about it changes
    assert isinstance(admin.site._registry[get_user_model()], UserAdmin)
    assert type(admin.site._registry[get_user_model()]).__name__ == "EmployeeAdmin"


@pytest.mark.parametrize("kind", sorted(CONTROL))
@pytest.mark.parametrize("model", MODELS, ids=_label)
def test_a_control_character_in_any_changelist_parameter_is_an_incorrect_lookup(root, rows, model, kind):
    # given
    client = logged_in(root)
    url = _url(model, "changelist")
    names = filter_parameters(admin.site._registry[model], root)
    # when / then: each parameter alone, then in its name
    for name in names:
        assert_incorrect_lookup(client, url, {name: CONTROL[kind]})
    assert_incorrect_lookup(client, url, {f"{names[0]}{CONTROL[kind]}": "1"})
    # and the list it redirects to is the plain changelist
    assert client.get(url + "?e=1").status_code == 200


def _garbage(model_admin, names: list[str]) -> list[dict[str, str]]:
    """Values an agent can type that parse as nothing the column holds."""
    cases = [{name: value} for name in names for value in ("garbage", "99999999999999999999", "-1", "9999-12-31")]
    for field in model_admin.model._meta.fields:
        if isinstance(field, models.DateTimeField | models.DateField):
            cases += [
                {f"{field.name}__year": "99999"},
                {f"{field.name}__year": "0"},
                {f"{field.name}__gte": "0001-01-01 00:00:00+00:00"},
                {f"{field.name}__lt": "9999-12-31 23:59:59+00:00"},
            ]
        if isinstance(field, models.ForeignKey) or (isinstance(field, models.IntegerField) and not field.choices):
            cases += [{field.attname: "99999999999999999999"}, {f"{field.attname}__gt": "-99999999999999999999"}]
        if isinstance(field, models.CharField | models.TextField) and field.name != "password":
            cases += [{f"{field.name}__regex": "("}]
    if model_admin.date_hierarchy:
        part = f"{model_admin.date_hierarchy}__"
        cases += [
            {f"{part}year": "9999"},
            {f"{part}year": "9999", f"{part}month": "12"},
            {f"{part}year": "9999", f"{part}month": "12", f"{part}day": "31"},
            {f"{part}year": "0"},
            {f"{part}year": "99999999999999999999"},
            {f"{part}year": "2026", f"{part}month": "13"},
        ]
    return cases


@pytest.mark.parametrize("model", MODELS, ids=_label)
def test_a_value_that_fits_no_column_is_never_a_500(root, rows, model):
    # given
    client = logged_in(root)
    url = _url(model, "changelist")
    model_admin = admin.site._registry[model]
    # when / then: the list (its filter ignores a value it does not offer), or an incorrect lookup
    for params in _garbage(model_admin, filter_parameters(model_admin, root)):
        response = client.get(url, params)
        assert response.status_code in (200, 302), (params, response.status_code)
        if response.status_code == 302:
            assert response["Location"] == url + "?e=1", params


@pytest.mark.parametrize(
    "params",
    [
        {"sla": "garbage"},
        {"sla": "breached", "follow_up": "someday"},
        {"mine": "\u00b2"},
        {"escalation": "1"},
        {"follow_up": "today", "created_at__gte": "garbage"},
        {"status__exact": "no_such_status"},
        {"priority__exact": "x" * 500},
    ],
)
def test_the_issue_list_filters_take_garbage_without_a_500(manager, rows, params):
    response = logged_in(manager).get(_url(OrderIssue, "changelist"), params)
    assert response.status_code in (200, 302), response.status_code
    if response.status_code == 200:
        assert "Incorrect lookup parameters" not in response.content.decode()


def test_a_manager_gets_the_same_answer_on_the_lists_they_see(manager, rows):
    client = logged_in(manager)
    for model in (OrderIssue, ApprovalRequest, Order, Return):
        url = _url(model, "changelist")
        assert_incorrect_lookup(client, url, {"q": "\x00"})
        assert_incorrect_lookup(client, url, {"o": "1\x00"})
        assert_incorrect_lookup(client, url, {"p": "\x002"})


@pytest.mark.parametrize(
    "source",
    [
        "issues.orderissue.order",  # searched by the order admin
        "issues.orderissue.assigned_to",  # by the user admin (Django's, extended in config/admin.py)
        "appeasements.appeasementrefund.appeasement",  # by the appeasement admin's own search
    ],
)
def test_an_autocomplete_search_with_a_control_character_finds_nothing(root, rows, source):
    client = logged_in(root)
    app_label, model_name, field_name = source.split(".")
    params = {"app_label": app_label, "model_name": model_name, "field_name": field_name}
    for term in CONTROL.values():
        response = client.get(reverse("admin:autocomplete"), {**params, "term": term})
        assert response.status_code == 200, term
        assert response.json()["results"] == []
    assert client.get(reverse("admin:autocomplete"), {**params, "term": ""}).json()["results"]  # it does search


# --------------------------------------------------------------------------- transitions


def test_the_fsm_admins_are_the_expected_ones():
    assert sorted(_label(m) for m in FSM_MODELS) == [
        "appeasements.Appeasement",
        "issues.ApprovalRequest",
        "issues.OrderIssue",
        "orders.Order",
    ]


def _fsm_object(model, rows):
    return {
        Order: rows["order"],
        OrderIssue: rows["issue"],
        ApprovalRequest: rows["approval"],
    }.get(model) or model.objects.get(appeasement_id=rows["appeasement"].appeasement_id)


@pytest.mark.parametrize("caller", ["manager", "root"])
@pytest.mark.parametrize("model", FSM_MODELS, ids=_label)
def test_a_name_that_is_no_transition_is_a_404(request, rows, model, caller):
    # given
    client = logged_in(request.getfixturevalue(caller))
    obj = _fsm_object(model, rows)
    before = model.objects.filter(pk=obj.pk).values().get()
    # when / then
    for name in NOT_TRANSITIONS:
        url = reverse(
            f"admin:{model._meta.app_label}_{model._meta.model_name}_transition",
            kwargs={"object_id": obj.pk, "transition_name": name},
        )
        assert client.get(url).status_code == 404, name
        assert client.post(url, {"notes": "x", "note": "x"}).status_code == 404, name
        # the change form's transition buttons post the name: refused before anything is saved
        response = client.post(_url(model, "change", obj.pk), {"_fsm_transition_to": name})
        assert response.status_code == 404, name
    assert model.objects.filter(pk=obj.pk).values().get() == before


def test_a_known_transition_the_state_does_not_allow_keeps_its_message(manager, rows):
    # given: the issue is in progress; "investigate" and "reopen" start elsewhere
    client = logged_in(manager)
    issue = rows["issue"]
    url = reverse("admin:issues_orderissue_transition", kwargs={"object_id": issue.pk, "transition_name": "reopen"})
    # when
    response = client.post(url, {"notes": "again"})
    # then: not a 404, nothing moved, and the agent is told why
    assert response.status_code in (200, 302)
    assert OrderIssue.objects.get(pk=issue.pk).status == "in_progress"
    assert [m for m in get_messages(response.wsgi_request) if m.level_tag == "error"]


def test_a_transition_url_of_a_missing_object_is_a_redirect_with_a_message(manager, rows):
    client = logged_in(manager)
    for object_id in ODD_IDS:
        url = reverse(
            "admin:issues_orderissue_transition", kwargs={"object_id": object_id, "transition_name": "investigate"}
        )
        response = client.get(url)
        assert response.status_code == 302, object_id
        assert response["Location"] == reverse("admin:index")


# --------------------------------------------------------------------------- the dashboard


def _dashboard(client: Client, **params) -> str:
    response = client.get(reverse("admin:issues_dashboard"), params)
    assert response.status_code == 200, params
    return response.content.decode()


@pytest.mark.parametrize(
    "params",
    [
        {"start": "0001-01-01", "end": "9999-12-31"},
        {"start": "1999-12-31", "end": "2000-01-05"},
        {"end": "9999-12-31"},
        {"start": "0001-01-01"},
        {"start": "2026-06-01", "end": "2026-05-01"},  # the end before the start
        {"start": "2020-01-01", "end": "2026-01-01"},  # six years
        {"start": "garbage", "end": "2026-01-01"},
        {"start": "2026-13-45"},
        {"end": "2026-01-01\x00"},
        {"start": "\x00", "end": "\x01"},
    ],
    ids=lambda p: "&".join(f"{k}={v!r}" for k, v in p.items()),
)
def test_the_dashboard_shows_a_form_error_and_the_default_range_for_dates_it_does_not_show(manager, rows, params):
    # given
    today = timezone.localdate()
    # when
    body = _dashboard(logged_in(manager), **params)
    # then: what was wrong, what is allowed, and the last 30 days in the form
    errors = re.search(r'<ul class="errorlist" id="range-errors">(.*?)</ul>', body, re.S)
    assert errors, body[:2000]
    assert "Choose dates from 2000-01-01 to " in errors.group(1)
    assert f'name="start" value="{today - timedelta(days=29)}"' in body
    assert f'name="end" value="{today}"' in body
    assert "Backlog by status and priority" in body


def test_the_dashboard_takes_a_year_ahead_and_a_year_long_range(manager, rows):
    client = logged_in(manager)
    today = timezone.localdate()
    for start, end in [
        (today - timedelta(days=365), today),
        ("2000-01-01", "2000-12-31"),
        (today, today + timedelta(days=300)),
    ]:
        body = _dashboard(client, start=str(start), end=str(end))
        assert "range-errors" not in body, (start, end)
        assert f'name="start" value="{start}"' in body
        assert f'name="end" value="{end}"' in body
    # one day past a year ahead is refused
    assert "range-errors" in _dashboard(client, start=str(today), end=str(today + timedelta(days=367)))


def test_the_dashboard_says_what_was_wrong(manager, rows):
    client = logged_in(manager)
    assert "Start &#x27;garbage&#x27; is not a date" in _dashboard(client, start="garbage")
    assert "is outside 2000-01-01" in _dashboard(client, start="1999-12-31", end="2000-01-05")
    assert "is before the start" in _dashboard(client, start="2026-06-01", end="2026-05-01")
    assert "is longer than 366 days" in _dashboard(client, start="2020-01-01", end="2026-01-01")


# --------------------------------------------------------------------------- ids in URLs


def _page_urls(model, object_id: str) -> list[str]:
    urls = []
    for page in ("change", "history", "delete"):
        try:
            urls.append(_url(model, page, object_id))
        except NoReverseMatch:  # an admin without that page
            pass
    return urls


@pytest.mark.parametrize("model", MODELS, ids=_label)
def test_an_id_that_names_no_row_is_a_redirect_or_a_404(root, rows, model):
    client = logged_in(root)
    for object_id in ODD_IDS:
        for url in _page_urls(model, object_id):
            response = client.get(url)
            # 403: a page the admin offers nobody (delete), refused before the id is read, as in Django
            assert response.status_code in (302, 403, 404), (url, response.status_code)
            if response.status_code == 302:
                assert response["Location"] == reverse("admin:index"), url
                assert "doesn’t exist" in " ".join(str(m) for m in get_messages(response.wsgi_request)), url


HISTORY_MODELS = [m for m in MODELS if isinstance(admin.site._registry[m], history_admin.SimpleHistoryAdmin)]


@pytest.mark.parametrize("model", HISTORY_MODELS, ids=_label)
def test_a_version_page_with_an_id_that_names_no_version_is_a_404(root, rows, model):
    client = logged_in(root)
    obj = model._default_manager.first()
    if obj is None:
        pytest.skip(f"no {model._meta.label} row")
    versions = model.history.filter(**{model._meta.pk.attname: obj.pk})
    version = versions.values_list("history_id", flat=True).first() or 1
    for object_id, version_id in [
        *((obj.pk, odd) for odd in ODD_IDS),
        *((odd, version) for odd in ODD_IDS),
    ]:
        response = client.get(_url(model, "simple_history", object_id, version_id))
        assert response.status_code == 404, (object_id, version_id, response.status_code)


@pytest.mark.parametrize("name", ["issues_orderissue_refund", "orders_order_refund"])
def test_a_refund_form_of_an_id_that_names_no_row_is_a_404(manager, rows, name):
    client = logged_in(manager)
    for object_id in ODD_IDS:
        assert client.get(reverse(f"admin:{name}", args=[object_id])).status_code == 404, object_id
        assert client.post(reverse(f"admin:{name}", args=[object_id]), {"amount": "1"}).status_code == 404


def test_the_return_forms_take_a_bad_order(manager, rows):
    client = logged_in(manager)
    record = reverse("admin:returns_return_record", args=[99999999999999999999])
    assert client.get(record).status_code == 404
    assert client.get(reverse("admin:returns_return_record", args=[0])).status_code == 404
    for order in ("\x00", "2026\x00-0001", "no-such-order", "x" * 300):
        response = client.get(_url(Return, "add"), {"order": order})
        assert response.status_code == 200, order
        assert any(str(m).startswith("No order") for m in get_messages(response.wsgi_request)), order


@pytest.mark.parametrize(
    ("model", "field"), [(OrderIssue, "order"), (Subscription, "owner")], ids=lambda v: getattr(v, "__name__", v)
)
def test_an_add_form_with_a_bad_initial_value_is_never_a_500(root, rows, model, field):
    client = logged_in(root)
    for value in (*CONTROL.values(), *ODD_IDS):
        assert client.get(_url(model, "add"), {field: value}).status_code == 200, value
