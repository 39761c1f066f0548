"""The agent's workspace on django-unfold (issue 23): the product's face, the sidebar's counts, the issue page with
its order and timeline, plain words, the managers' inbox, and starting work from where the agent stands."""

import html
import re
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from appeasements.models import Appeasement, AppeasementReason, AppeasementState, RefundType
from issues import services
from issues.models import ApprovalRequest, OrderIssue
from orders.models import OrderItem
from tests.factories import issue_factory, order_with_items

pytestmark = pytest.mark.django_db

# A raw choice value where people read: snake_case (in_progress, store_credit) or camelCase (incorrectItem).
RAW_VALUE = re.compile(r"\b[a-z]+(?:_[a-z]+)+\b|\b[a-z]+[A-Z][a-zA-Z]+\b")


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def issue_url(issue) -> str:
    return reverse("admin:issues_orderissue_change", args=[issue.pk])


def transition_url(issue, name: str) -> str:
    return reverse("admin:issues_orderissue_transition", kwargs={"object_id": issue.pk, "transition_name": name})


def queries(client, url) -> int:
    client.get(url)
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


# --------------------------------------------------------------------------- the product's face


def test_the_favicon_answers_and_the_header_names_the_product(client, agent):
    favicon = client.get("/favicon.ico")
    assert favicon.status_code == 200
    assert favicon["Content-Type"] == "image/x-icon"
    assert favicon.content[:4] == b"\x00\x00\x01\x00"  # an ICO file
    body = logged_in(agent).get(reverse("admin:index")).content.decode()
    assert "Order back office" in body
    assert "Django administration" not in body
    assert 'href="/favicon.ico"' in body


def test_a_login_lands_on_the_admin_index(agent, client):
    response = client.post(reverse("admin:login"), {"username": agent.username, "password": f"pass-{agent.username}"})
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:index")


def test_the_sidebar_counts_my_open_issues_and_shows_approvals_to_managers_only(agent, manager):
    order = order_with_items()
    for _ in range(3):
        issue_factory(order, assigned_to=agent)
    body = logged_in(agent).get(reverse("admin:index")).content.decode()
    mine = body[body.index("My open issues") :][:600]
    assert re.search(r">\s*3\s*<", mine), mine
    assert "Approvals waiting" not in body  # the sidebar link and the index tile are for managers
    assert "?state__exact=pending" not in body
    manager_body = logged_in(manager).get(reverse("admin:index")).content.decode()
    assert "?state__exact=pending" in manager_body
    assert "Approvals waiting" in manager_body


# --------------------------------------------------------------------------- the issue workspace


def test_the_issue_page_shows_its_order_beside_it(agent):
    order = order_with_items(items=2)
    issue = issue_factory(order, assigned_to=agent, title="Cracked jug")
    other = issue_factory(order, assigned_to=agent, title="Late delivery")
    body = logged_in(agent).get(issue_url(issue)).content.decode()
    panel = body[body.index('id="order-panel"') :]
    for item in OrderItem.objects.filter(order=order):
        assert item.sku in panel
        assert item.store_item_name in panel
    assert order.customer_email in panel
    assert "Captured" in panel  # the payment, by its label
    assert "Late delivery" in panel  # the other issues of this order and customer
    body[body.index('id="workspace-head"') :]
    assert body.index('id="workspace-head"') < body.index('id="timeline"')
    assert other.issue_id not in body[body.index('id="timeline"') :]


def test_the_timeline_is_newest_first_in_plain_sentences_with_the_note_box_at_its_head(agent):
    issue = issue_factory(order_with_items(), assigned_to=agent)
    client = logged_in(agent)
    client.post(transition_url(issue, "investigate"), {"notes": "Asked the warehouse."})
    services.issue_note_add(issue=issue, actor=agent, body="Called the customer back")
    body = client.get(issue_url(issue)).content.decode()
    timeline = body[body.index('id="timeline"') :]
    assert timeline.index('id="note-box"') < timeline.index("Called the customer back")
    assert "moved it from Open to Investigating" in timeline
    assert timeline.index("Called the customer back") < timeline.index("moved it from Open to Investigating")
    assert "→" not in timeline


def test_the_workspace_and_the_order_page_cost_the_same_for_1_and_many_rows(agent):
    counts = []
    for items, notes in ((1, 1), (30, 50)):
        order = order_with_items(items=items)
        issue = issue_factory(order, assigned_to=agent)
        for n in range(notes - 1):
            services.issue_note_add(issue=issue, actor=agent, body=f"note {n}")
        client = logged_in(agent)
        order_url = reverse("admin:orders_order_change", args=[order.pk])
        counts.append((queries(client, issue_url(issue)), queries(client, order_url)))
    assert counts[0] == counts[1]


# --------------------------------------------------------------------------- plain words, escalation


def test_a_refused_move_says_where_the_issue_can_go(agent):
    issue = issue_factory(order_with_items(), assigned_to=agent)
    client = logged_in(agent)
    client.post(transition_url(issue, "investigate"), {"notes": "Looking."})
    client.post(transition_url(issue, "start_work"), {"notes": "Working."})
    response = client.post(transition_url(issue, "back_to_open"), {"notes": "Oops"}, follow=True)
    text = " ".join(str(m) for m in response.context["messages"])
    assert "This issue is In progress; it can go" in text, text
    assert "back_to_open" not in text
    assert "in_progress" not in text


def test_an_escalation_needs_a_note_and_a_pending_request_replaces_the_button(agent):
    issue = issue_factory(order_with_items(), assigned_to=agent)
    client = logged_in(agent)
    page = client.post(transition_url(issue, "escalate"), {"notes": ""})
    assert page.status_code == 200
    assert "Say why it needs a manager" in page.content.decode()
    assert not ApprovalRequest.objects.filter(issue=issue).exists()
    form = client.get(transition_url(issue, "escalate")).content.decode()
    assert 'id="transition-cancel"' in form
    assert "Refundable" in form
    client.post(transition_url(issue, "escalate"), {"notes": "Customer wants a manager."})
    approval = ApprovalRequest.objects.get(issue=issue)
    body = client.get(issue_url(issue)).content.decode()
    head = body[body.index('id="workspace-head"') : body.index('id="timeline"')]
    assert approval.approval_id in head
    assert 'value="escalate"' not in head


def test_the_issue_page_shows_labels_not_raw_values(agent):
    issue = issue_factory(order_with_items(), assigned_to=agent, issue_type="wrong_item")
    body = logged_in(agent).get(issue_url(issue)).content.decode()
    head = body[body.index('id="workspace-head"') : body.index("</section>", body.index('id="workspace-head"'))]
    visible = re.sub(r"<[^>]+>", " ", head)
    assert "Wrong item" in visible
    assert not RAW_VALUE.search(visible), RAW_VALUE.search(visible)


def test_the_issue_pages_submit_bar_keeps_save_only_and_the_steps_stay_on_top(agent):
    issue = issue_factory(order_with_items(), assigned_to=agent)
    client = logged_in(agent)
    body = client.get(issue_url(issue)).content.decode()
    assert 'name="_save"' in body
    assert "Save and add another" not in body
    assert 'name="_addanother"' not in body
    assert "Save and continue editing" not in body
    # the workflow's steps are still buttons of the form, after the hidden default that Enter in a field presses
    head = body[body.index('id="default-submit"') : body.index('id="timeline"')]
    assert 'name="_fsm_transition_to"' in head
    assert 'value="investigate"' in head
    response = client.post(issue_url(issue), {**issue_form(issue), "_fsm_transition_to": "investigate"})
    assert response["Location"] == transition_url(issue, "investigate")


def issue_form(issue) -> dict:
    """The issue page's form as the browser sends it, unchanged (without the note box)."""
    return {
        "priority": issue.priority,
        "assigned_to": issue.assigned_to_id or "",
        "resolution_description": "",
        "customer_satisfied": "unknown",
        "follow_up_date_0": "",
        "follow_up_date_1": "",
        "notes": "",
        "notes-TOTAL_FORMS": "0",  # the note box left out
        "notes-INITIAL_FORMS": "0",
        "notes-MIN_NUM_FORMS": "0",
        "notes-MAX_NUM_FORMS": "1000",
        "appeasements-TOTAL_FORMS": "0",
        "appeasements-INITIAL_FORMS": "0",
        "appeasements-MIN_NUM_FORMS": "0",
        "appeasements-MAX_NUM_FORMS": "0",
    }


def header_title(body: str) -> str:
    """The crumbs in the page's header, as text: "Home › Managers' dashboard"."""
    h1 = re.search(r"<h1[^>]*>(.*?)</h1>", body, re.S).group(1)
    h1 = re.sub(r"<span[^>]*material-symbols[^>]*>\s*chevron_right\s*</span>", " › ", h1)
    return html.unescape(" ".join(re.sub(r"<[^>]+>", " ", h1).split()))


def test_the_dashboards_header_reads_plainly_and_an_issue_keeps_its_ids_spelling(manager, agent):
    body = logged_in(manager).get(reverse("admin:issues_dashboard")).content.decode()
    assert header_title(body) == "Home › Managers' dashboard"
    issue = issue_factory(order_with_items(), assigned_to=agent)
    body = logged_in(agent).get(issue_url(issue)).content.decode()
    assert header_title(body) == f"Issues › Order issues › {issue.issue_id}"  # not "Issue_…"


# --------------------------------------------------------------------------- the managers' inbox


def test_the_inbox_shows_what_is_asked_and_decides_from_the_row(agent, manager, other_manager):
    order = order_with_items(customer_first_name="Dana", customer_last_name="Lee")
    issue = issue_factory(order, assigned_to=agent)
    logged_in(agent).post(transition_url(issue, "escalate"), {"notes": "Replacement and a credit."})
    approval = ApprovalRequest.objects.get(issue=issue)
    client = logged_in(manager)
    body = client.get(reverse("admin:issues_approvalrequest_changelist") + "?state__exact=pending").content.decode()
    for text in (order.order_id, "Dana Lee", "emp_cs_001", "Replacement and a credit."):
        assert text in body, text
    row_action = reverse("admin:issues_approvalrequest_approve_from_list", args=[approval.pk])
    assert row_action in body
    answer = client.get(row_action)
    assert answer.status_code == 302
    assert answer["Location"].endswith(f"/{approval.pk}/transition/approve/")
    client.post(answer["Location"], {"note": "Go ahead."})
    assert ApprovalRequest.objects.get(pk=approval.pk).state == "approved"


def test_nobody_decides_their_own_request(manager, other_manager):
    issue = issue_factory(order_with_items())
    approval = ApprovalRequest.objects.create(
        kind="escalation", issue=issue, target_type="issue", target_id=issue.issue_id, requested_by=manager,
        requested_status="escalated",
    )  # fmt: skip
    url = reverse(
        "admin:issues_approvalrequest_transition", kwargs={"object_id": approval.pk, "transition_name": "approve"}
    )
    logged_in(manager).post(url, {"note": "Approving my own"})
    assert ApprovalRequest.objects.get(pk=approval.pk).state == "pending"
    logged_in(other_manager).post(url, {"note": "Four eyes"})
    assert ApprovalRequest.objects.get(pk=approval.pk).state == "approved"


# --------------------------------------------------------------------------- from where the agent stands


def test_an_issue_opens_from_the_order_with_its_items_ticked(agent):
    order = order_with_items(items=3)
    client = logged_in(agent)
    start = client.get(reverse("admin:orders_order_open_issue", args=[order.pk]))
    assert start.status_code == 302
    form = client.get(start["Location"]).content.decode()
    items = list(OrderItem.objects.filter(order=order).order_by("line_number"))
    for item in items:
        assert f'value="{item.pk}"' in form
        assert item.sku in form
    response = client.post(
        start["Location"],
        {
            "order": order.pk,
            "affected_items": [items[0].pk, items[2].pk],
            "issue_type": "damaged_item",
            "title": "Two cracked",
            "description": "",
            "priority": "medium",
            "assigned_to": "",
            "notes": "",
            "_save": "Save",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    issue = OrderIssue.objects.get(order=order, title="Two cracked")
    assert set(issue.affected_items.all()) == {items[0], items[2]}


def test_an_issue_form_for_an_unknown_order_does_not_fail(agent):
    for value in ("abc", "999999999999999999999", "1\x00"):
        assert logged_in(agent).get(reverse("admin:issues_orderissue_add") + f"?order={value}").status_code == 200


@pytest.fixture
def appeasement_codes(db):
    reason = AppeasementReason.objects.get_or_create(code="late", defaults={"description": "Late delivery"})[0]
    credit = RefundType.objects.get_or_create(
        code="storeCredit", defaults={"description": "Store credit", "ledger_source": "store_credit"}
    )[0]
    return reason, credit


@pytest.mark.parametrize(("amount", "state"), [("10.00", AppeasementState.SUBMITTED), ("60.00", "PENDING_APPROVAL")])
def test_an_appeasement_starts_from_the_issue_and_goes_to_a_manager_over_policy(
    agent, appeasement_codes, amount, state
):
    reason, credit = appeasement_codes
    order = order_with_items(items=2, unit_price=Decimal("50.00"), status="completed")
    issue = issue_factory(order, assigned_to=agent)
    client = logged_in(agent)
    body = client.get(issue_url(issue)).content.decode()
    url = reverse("admin:orders_order_appeasement", args=[order.pk]) + f"?issue={issue.pk}"
    assert url.replace("&", "&amp;") in body or url in body
    form = client.get(url).content.decode()
    assert 'id="policy-limit">20.00 USD' in form  # 20% of 100.00
    key = re.search(r'name="form_key" value="([0-9a-f]+)"', form).group(1)
    data = {"form_key": key, "reason": reason.pk, "refund_type": credit.pk, "amount": amount, "type": "order"}
    response = client.post(url, {**data, "note": "Sorry for the wait."})
    assert response.status_code == 302, response.content.decode()[-3000:]
    appeasement = Appeasement.objects.get(order=order)
    assert appeasement.issue == issue
    assert appeasement.state == state


def goodwill_form(client, order, reason, credit) -> tuple[str, dict]:
    """The order's goodwill form, read once for its one-time key: its URL and what it sends without the money."""
    url = reverse("admin:orders_order_appeasement", args=[order.pk])
    key = re.search(r'name="form_key" value="([0-9a-f]+)"', client.get(url).content.decode()).group(1)
    return url, {"form_key": key, "reason": reason.pk, "refund_type": credit.pk, "type": "order"}


def test_the_appeasement_form_wants_one_of_amount_or_percentage(agent, appeasement_codes):
    reason, credit = appeasement_codes
    order = order_with_items(items=2, unit_price=Decimal("50.00"), status="completed")
    client = logged_in(agent)
    url, data = goodwill_form(client, order, reason, credit)
    data["note"] = "x"
    page = client.post(url, data)
    assert page.status_code == 200
    assert "one of them" in page.content.decode()
    page = client.post(url, {**data, "percentage": "10"})
    assert page.status_code == 302
    assert Appeasement.objects.get(order=order).refunds.get().amount == Decimal("10.00")


# --------------------------------------------------------------------------- the dashboard


def test_the_dashboard_axis_speaks_in_sensible_units():
    from desk.dashboard import _nice, _tick

    assert [_tick(v, "h") for v in (0, 0.05, 0.5, 1.5, 36, 72)] == ["0", "3 min", "30 min", "1.5 h", "36 h", "3 d"]
    assert [_nice(v) for v in (0.13, 3, 7, 20, 0)] == [0.2, 5, 10, 20, 1]


def test_the_dashboards_figures_speak_in_sensible_units_too(manager, agent):
    """The headline durations read "45 min", not "0.8h" (and "—" when nothing was resolved)."""
    from datetime import timedelta

    from django.utils import timezone

    body = logged_in(manager).get(reverse("admin:issues_dashboard")).content.decode()
    assert "<strong>—</strong>median time to resolution" in body
    issue = issue_factory(order_with_items(), assigned_to=agent)
    now = timezone.now()
    OrderIssue.objects.filter(pk=issue.pk).update(
        status="resolved", created_at=now - timedelta(minutes=45), resolved_at=now
    )
    body = logged_in(manager).get(reverse("admin:issues_dashboard")).content.decode()
    assert "<strong>45 min</strong>median time to resolution" in body
    assert not re.search(r"<strong>[\d.]+h</strong>", body)


def test_long_bar_labels_take_turns_so_they_never_run_together():
    from desk.dashboard import stacked_bars

    def label_rows(categories):
        svg = stacked_bars(categories, ["low"], {c: {"low": 1} for c in categories}, width=420)
        return [float(y) for y in re.findall(r'y="([\d.]+)" text-anchor="middle">[A-Z]', svg)]

    assert label_rows(["Open", "Investigating", "In progress", "Resolved", "Escalated"]) == [178, 190, 178, 190, 178]
    assert label_rows(["A", "B"]) == [178, 178]  # short labels stay on one line


def test_the_dashboards_bars_open_the_lists_they_count(manager, agent):
    order = order_with_items()
    issue_factory(order, assigned_to=agent, issue_type="damaged_item")
    body = logged_in(manager).get(reverse("admin:issues_dashboard")).content.decode()
    issues = reverse("admin:issues_orderissue_changelist")
    assert f'<a href="{issues}?issue_type__exact=damaged_item&amp;created_at__gte=' in body
    assert f'href="{issues}?status__exact=open&amp;priority__exact=' in body
    table = body[body.index('id="backlog-table"') :]
    table = re.sub(r"<[^>]+>", " ", table[: table.index("</table>")])
    assert "Open" in table
    assert not RAW_VALUE.search(table)


def test_badges_and_the_index_tiles_count_up_to_their_cap(agent, monkeypatch):
    """A count stops at the cap and reads "99+" (BADGE_CAP - 1, then +): its cost stays the same at any size."""
    from desk import sidebar

    monkeypatch.setattr(sidebar, "BADGE_CAP", 3)
    order = order_with_items()
    for _ in range(2):
        issue_factory(order, assigned_to=agent)
    body = logged_in(agent).get(reverse("admin:index")).content.decode()
    assert re.search(r">\s*2\s*<", body[body.index("My open issues") :][:600])
    for _ in range(3):
        issue_factory(order, assigned_to=agent)
    body = logged_in(agent).get(reverse("admin:index")).content.decode()
    tile = body[body.index('id="link-my-open"') :][:300]
    assert re.search(r">\s*2\+\s*<", tile), tile
    assert re.search(r">\s*2\+\s*<", body[body.index("My open issues") :][:600])


def test_the_workspace_lists_the_customers_issues_on_their_other_orders(agent):
    order = order_with_items(items=1)
    issue = issue_factory(order, assigned_to=agent, title="Cracked jug")
    same_customer = order_with_items(items=1)
    same_customer.customer_email = order.customer_email
    same_customer.save()
    issue_factory(same_customer, title="Wrong size on the other order")
    stranger = issue_factory(order_with_items(items=1), title="Someone else's issue")
    panel = logged_in(agent).get(issue_url(issue)).content.decode()
    panel = panel[panel.index('id="order-panel"') :]
    assert "Wrong size on the other order" in panel
    assert stranger.title not in panel


def test_the_next_issue_is_the_agents_next_open_one_by_age_then_the_first(agent):
    from desk.admin import next_issue_url

    order = order_with_items(items=1)
    first, current, later = (issue_factory(order, assigned_to=agent) for _ in range(3))
    issue_factory(order)  # nobody's
    done = issue_factory(order, assigned_to=agent)
    OrderIssue.objects.filter(pk=done.pk).update(status="closed")
    assert next_issue_url(agent, current) == issue_url(later)
    assert next_issue_url(agent, later) == issue_url(first)  # after the last: the first of the queue
    OrderIssue.objects.filter(pk__in=[first.pk, current.pk]).update(status="resolved")
    assert next_issue_url(agent, later) == ""


def test_the_sidebars_facts_are_its_orm_querys(agent, other_agent, manager, monkeypatch):
    """desk.sidebar.sidebar_facts is SQL of its own (every admin page runs it); the ORM query says what it counts."""
    from django.test import RequestFactory

    from desk import sidebar

    monkeypatch.setattr(sidebar, "BADGE_CAP", 3)
    order = order_with_items()
    for _ in range(5):
        issue_factory(order, assigned_to=agent)
    OrderIssue.objects.filter(pk=issue_factory(order, assigned_to=other_agent).pk).update(status="closed")
    logged_in(agent).post(transition_url(issue_factory(order, assigned_to=agent), "escalate"), {"notes": "Why."})
    for user in (agent, other_agent, manager):
        request = RequestFactory().get("/admin/")
        request.user = user
        expected = sidebar.sidebar_facts_query(user).first()
        expected["manager"] = bool(expected["manager"]) or user.is_superuser
        assert sidebar.sidebar_facts(request) == expected, user
    assert sidebar.sidebar_facts_query(agent).first()["mine"] == 3  # counted up to the cap


@pytest.mark.parametrize("appeasements", [0, 1])
def test_the_workspace_is_the_page_django_renders(agent, manager, appeasement_codes, monkeypatch, appeasements):
    """desk.admin.DeskOrderIssueAdmin reads its issue with SQL built once, leaves the appeasements inline out of an
    issue page with none and puts the inline's empty markup in its place: the page is the one Django's
    ``get_object`` and inline make, byte for byte, for the viewer who made the kept markup and for another (an
    agent's kept markup served to a manager)."""
    from desk.admin import DeskOrderIssueAdmin

    reason, _credit = appeasement_codes
    order = order_with_items(items=2)
    issue = issue_factory(order, assigned_to=agent)
    issue_factory(order, assigned_to=agent)  # the agent's next issue (the "j" key), and one in the order panel
    for _ in range(appeasements):
        Appeasement.objects.create(order=order, issue=issue, profile_id="p1", agent=agent, reason=reason)

    def page(user) -> tuple[str, int]:
        client = logged_in(user)
        with CaptureQueriesContext(connection) as ctx:
            body = client.get(issue_url(issue)).content.decode()
        return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", body), len(ctx.captured_queries)

    monkeypatch.setattr(DeskOrderIssueAdmin, "_no_appeasements_html", None)
    first, _ = page(agent)  # renders the markup it keeps
    fast = {user: page(user) for user in (agent, manager)}
    monkeypatch.setattr(DeskOrderIssueAdmin, "skip_empty_inlines", False)
    monkeypatch.setattr(DeskOrderIssueAdmin, "prebuilt_object", False)  # the issue read by Django's get_object
    for user in (agent, manager):
        django, django_queries = page(user)
        body, queries = fast[user]
        assert 'id="appeasements-group"' in django
        assert body == django, user
        assert queries == django_queries - (1 if not appeasements else 0)
    assert first == fast[agent][0]
