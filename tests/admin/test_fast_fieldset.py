"""The issue workspace renders its fieldset in Python (desk.fieldset); the HTML must be, byte for byte, what Unfold's
templates render for the same fieldset in the same request: its classes drive the layout at 390 and 1280 px, its
ids and names the form's JavaScript and POSTs."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone

import desk.templatetags.backoffice as tags
from desk.fieldset import FIELDSET_TEMPLATE
from issues.models import OrderIssue
from tests.admin.renderings import both_renderings
from tests.admin.test_workspace import issue_form, issue_url, logged_in
from tests.factories import issue_factory, order_with_items

pytestmark = pytest.mark.django_db


def unfolds_fieldset(fieldset, context) -> str:
    return context.template.engine.get_template(FIELDSET_TEMPLATE).render(context)


# each fieldset the workspace renders, as (desk.fieldset's HTML, Unfold's templates' HTML)
renderings = both_renderings(tags, "render_fieldset", unfolds_fieldset)


def assert_same(renderings) -> str:
    assert renderings
    for fast, slow in renderings:
        assert fast is not None  # rendered in Python, not through the fallback
        assert fast == slow
    renderings.clear()
    return slow


@pytest.mark.parametrize("who", ["agent", "manager"])
def test_the_workspace_fieldset_is_unfolds_html(request, renderings, agent, who):
    user = request.getfixturevalue(who)
    order = order_with_items(items=2)
    quiet = issue_factory(order, assigned_to=agent)
    busy = issue_factory(
        order,
        assigned_to=agent,
        title='A <b>"lid"</b> & more',
        description="Line one\nline <two>",
        follow_up_required=True,
        follow_up_date=timezone.now() + timedelta(days=1),
    )
    OrderIssue.objects.filter(pk=busy.pk).update(status="resolved", customer_satisfied=True)
    client = logged_in(user)
    for issue in (quiet, busy):
        assert client.get(issue_url(issue)).status_code == 200
        body = assert_same(renderings)
        assert 'name="priority"' in body
        assert issue is quiet or "A &lt;b&gt;" in body  # escaped as the template escapes it


def test_a_refused_form_shows_its_errors_in_unfolds_html(renderings, agent):
    issue = issue_factory(order_with_items(), assigned_to=agent)
    form = {
        **issue_form(issue),
        "priority": "no-such-priority",
        "follow_up_required": "on",
        "follow_up_date_0": "not a date",
    }
    response = logged_in(agent).post(issue_url(issue), form)
    assert response.status_code == 200
    body = assert_same(renderings)
    assert "errorlist" in body
    line = re.search(r'class="([^"]*\bfield-priority\b[^"]*)"', body).group(1)
    assert "errors" in line.split()
