"""Start an appeasement (goodwill credit) from the order or the issue page: the admin's form for
``appeasements.services.appeasement_create`` (docs/admin.md). Over the policy it waits for a manager (the service
decides and opens the request); within it, it is submitted at once. One write path with the ccagent API.

The usual reason and payment come ticked, and the note is optional: the amount and Enter start it."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from django import forms

from appeasements.models import AppeasementReason, AppeasementType, RefundType
from appeasements.selectors import Initiation
from appeasements.services import AppeasementInput, RefundInput
from config.admin_mixins import OnceForm
from issues.models import IssueType, OrderIssue
from orders.ledger import CENT

# What the form ticks for the agent: the managed codes the appeasements app seeds (its migration 0002). A code that
# is missing or inactive is simply not ticked.
GOODWILL = "goodwill"
STORE_CREDIT = "storeCredit"
REASON_FOR_ISSUE_TYPE = {
    IssueType.WRONG_ITEM: "incorrectItem",
    IssueType.MISSING_ITEM: "itemMissing",
    IssueType.DAMAGED_ITEM: "itemArrivedDamaged",
    IssueType.QUALITY: "poorQuality",
    IssueType.LATE_DELIVERY: "lateDelivery",
}


class DescribedChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        return obj.description or obj.code


class AppeasementForm(OnceForm):
    reason = DescribedChoiceField(queryset=AppeasementReason.objects.filter(active=True).order_by("description"))
    refund_type = DescribedChoiceField(
        queryset=RefundType.objects.filter(active=True).order_by("description"), label="Paid as"
    )
    amount = forms.DecimalField(max_digits=12, decimal_places=2, min_value=CENT, required=False)
    percentage = forms.DecimalField(
        max_digits=5, decimal_places=2, min_value=CENT, max_value=Decimal("100"), required=False,
        help_text="Of the order's total, instead of an amount.",
    )  # fmt: skip
    payment_group = forms.ChoiceField(required=False, label="Payment", help_text="For a refund to a card or wallet.")
    type = forms.ChoiceField(choices=AppeasementType.choices, initial=AppeasementType.ORDER, label="For")
    note = forms.CharField(
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Optional: what a manager deciding it, or the next agent, should know.",
    )

    def __init__(self, *args, initiation: Initiation, issue: OrderIssue | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.order = initiation.order
        groups = list(dict.fromkeys(p.payment_group_id for p in initiation.payments))
        self.fields["payment_group"].choices = [("", "—"), *((g, g) for g in groups)]
        self._preselect(issue)

    def _preselect(self, issue: OrderIssue | None) -> None:
        """The usual choices, ticked and shown (the agent changes them if they do not fit): the reason the issue's
        type names (a damaged item: "Item arrived damaged"), else a goodwill gesture; paid as store credit."""
        wanted = REASON_FOR_ISSUE_TYPE.get(issue.issue_type, GOODWILL) if issue is not None else GOODWILL
        reasons = dict(self.fields["reason"].queryset.filter(code__in={wanted, GOODWILL}).values_list("code", "pk"))
        self.fields["reason"].initial = reasons.get(wanted, reasons.get(GOODWILL))
        credit = self.fields["refund_type"].queryset.filter(code=STORE_CREDIT).values_list("pk", flat=True).first()
        self.fields["refund_type"].initial = credit

    def clean(self):
        data = super().clean()
        amount, percentage = data.get("amount"), data.get("percentage")
        if not self.errors and (amount is None) == (percentage is None):
            raise forms.ValidationError("Give an amount or a percentage of the order's total (one of them).")
        if amount is None and percentage is not None:
            data["amount"] = (self.order.order_total * percentage / 100).quantize(CENT, rounding=ROUND_HALF_UP)
        refund_type = data.get("refund_type")
        if refund_type is not None and refund_type.requires_payment_group and not data.get("payment_group"):
            self.add_error("payment_group", f"{refund_type.description or refund_type.code} names a payment.")
        return data

    def service_input(self, issue_id: str | None) -> AppeasementInput:
        data = self.cleaned_data
        refund = RefundInput(
            refund_type=data["refund_type"].code,
            amount=data["amount"],
            currency_code=self.order.currency,
            payment_group_id=data.get("payment_group") or None,
        )
        return AppeasementInput(
            order_id=self.order.order_id,
            reason=data["reason"].code,
            type=data["type"],
            notes=data["note"],
            issue_id=issue_id,
            refunds=[refund],
            state="SUBMITTED",
        )
