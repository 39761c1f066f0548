"""Webhooks in the admin: subscriptions (secret shown once, rotate, send a test event, a failing filter),
the delivery log (each attempt with time, status, latency and the start of the answer; send again) and
the outbox. Every write goes through ``webhooks.services``.

Managers only. A subscription's ``account`` must be an account known to the system; its ``owner`` (an active
manager or service account, by default the manager who adds it) may be changed to hand it to a service account
granted that account, which then sees and changes it through the API."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.utils.html import format_html

from config.admin_mixins import DistinctValuesFilter, GrowingTableAdmin, ModelAdmin, TabularInline
from config.errors import DomainError, ValidationFailed
from webhooks import services
from webhooks.models import Delivery, DeliveryAttempt, DeliveryStatus, OutboxEvent, Subscription


class FailingFilter(admin.SimpleListFilter):
    title = "health"
    parameter_name = "health"

    def lookups(self, request, model_admin):
        return [("failing", "Failing"), ("disabled", "Disabled after failures"), ("healthy", "Healthy")]

    def queryset(self, request, queryset):
        retrying = Delivery.objects.filter(subscription=OuterRef("pk"), status=DeliveryStatus.PENDING, attempts__gt=0)
        failing = Q(consecutive_failures__gt=0) | Q(Exists(retrying)) | Q(disabled_at__isnull=False, active=False)
        if self.value() == "failing":
            return queryset.filter(failing)
        if self.value() == "disabled":
            return queryset.filter(active=False, disabled_at__isnull=False)
        if self.value() == "healthy":
            return queryset.exclude(failing)
        return queryset


def _each(modeladmin, request, queryset, action, done: str):
    count = 0
    for obj in queryset:
        try:
            with transaction.atomic():
                action(obj)
            count += 1
        except DomainError as err:
            modeladmin.message_user(request, f"{obj}: {err.message}", level=messages.ERROR)
    if count:
        modeladmin.message_user(request, f"{done}: {count}", level=messages.SUCCESS)


FORM_FIELDS = ("url", "description", "account", "owner", "event_types", "active")


class SubscriptionForm(forms.ModelForm):
    url = forms.URLField(max_length=500, assume_scheme="https", help_text="HTTPS; checked again at every delivery.")

    class Meta:
        model = Subscription
        fields = FORM_FIELDS

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "owner" in self.fields:
            # The current owner stays selectable (say, a deactivated account), so other changes can be saved;
            # handing it over (or changing its account) checks the owner again.
            self.fields["owner"].queryset = (
                self.fields["owner"]
                .queryset.model.objects.filter(
                    Q(pk__in=services.owner_choices().values("pk")) | Q(pk=self.instance.owner_id)
                )
                .order_by("username")
            )
            self.fields["owner"].help_text = (
                "An active manager or service account. A service account sees and changes only the subscriptions "
                "it owns, and must be granted the account."
            )

    def clean(self):
        data = super().clean()
        adding = self.instance.pk is None
        checks = [
            ("url", lambda: services.clean_url(data["url"])),
            ("event_types", lambda: data.update(event_types=services.clean_event_types(data["event_types"]))),
        ]
        if adding or "account" in self.changed_data:
            checks.append(("account", lambda: services.clean_account(data["account"])))
        if "owner" in data and (adding or {"owner", "account"} & set(self.changed_data)):
            checks.append(
                ("owner", lambda: services.clean_owner(data["owner"], account=data.get("account") or "", actor=None))
            )
        for name, check in checks:
            if name not in data or self.has_error(name):
                continue
            try:
                check()
            except ValidationFailed as err:
                for problem in err.errors:
                    self.add_error(problem["field"] if problem["field"] in self.fields else None, problem["error"])
                if name == "account":
                    break  # an owner cannot be checked against a bad account
        return data


@admin.register(Subscription)
class SubscriptionAdmin(ModelAdmin):
    form = SubscriptionForm
    list_display = (
        "subscription_id",
        "url",
        "account",
        "owner",
        "active",
        "consecutive_failures",
        "disabled_at",
        "created_at",
    )
    # Owners who own a subscription (a small table), not every user.
    list_filter = ("active", FailingFilter, "account", ("owner", admin.RelatedOnlyFieldListFilter))
    search_fields = ("subscription_id", "url", "description", "account")
    readonly_fields = (
        "subscription_id",
        "consecutive_failures",
        "disabled_at",
        "disabled_reason",
        "previous_secret_expires_at",
        "created_by",
        "created_at",
        "updated_at",
    )
    fields = (*FORM_FIELDS, *readonly_fields)
    list_select_related = ("created_by", "owner")
    actions = ["send_test_event", "rotate_secret", "reactivate"]

    def save_model(self, request, obj, form, change):
        data = {name: form.cleaned_data.get(name) for name in FORM_FIELDS if name in form.cleaned_data}
        if change:
            services.subscription_update(actor=request.user, subscription=obj, changes=data)
            return
        if data.get("owner") is None:
            data.pop("owner", None)  # added without an owner: the manager who adds it owns it
        created = services.subscription_create(actor=request.user, **data)
        obj.pk, obj.subscription_id = created.subscription.pk, created.subscription.subscription_id
        self.message_user(
            request,
            format_html(
                "The signing secret, shown only now: <code>{}</code> (rotate it to get a new one).", created.secret
            ),
            level=messages.WARNING,
        )

    def delete_model(self, request, obj):
        services.subscription_delete(actor=request.user, subscription=obj)

    def delete_queryset(self, request, queryset):
        for sub in queryset:  # one by one through the service: each deletion is history with its reason
            services.subscription_delete(actor=request.user, subscription=sub)

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        if "account" in form.base_fields and obj is None:
            from django.conf import settings

            form.base_fields["account"].initial = settings.DEFAULT_ACCOUNT_ID
        if "owner" in form.base_fields and obj is None:
            form.base_fields["owner"].initial = request.user.pk  # the manager who adds it, unless handed over
        if "event_types" in form.base_fields:
            form.base_fields["event_types"].help_text = "A JSON list, empty for every type: " + ", ".join(
                services.SUBSCRIBABLE
            )
        return form

    @admin.action(description="Send a test event")
    def send_test_event(self, request, queryset):
        _each(
            self,
            request,
            queryset,
            lambda sub: services.subscription_send_test(actor=request.user, subscription=sub),
            "Test events queued",
        )

    @admin.action(description="Rotate the signing secret (the old one signs too for the grace period)")
    def rotate_secret(self, request, queryset):
        for sub in queryset:
            secret = services.subscription_rotate_secret(actor=request.user, subscription=sub)
            self.message_user(
                request,
                format_html("{}: the new secret, shown only now: <code>{}</code>", sub.subscription_id, secret),
                level=messages.WARNING,
            )

    @admin.action(description="Re-activate (pending deliveries resume)")
    def reactivate(self, request, queryset):
        _each(
            self,
            request,
            queryset,
            lambda sub: services.subscription_update(actor=request.user, subscription=sub, changes={"active": True}),
            "Re-activated",
        )


class AttemptInline(TabularInline):
    model = DeliveryAttempt
    extra = 0
    can_delete = False
    fields = ("attempted_at", "status_code", "latency_ms", "succeeded", "response_excerpt", "error")
    readonly_fields = fields
    ordering = ("-attempted_at", "-id")

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Delivery)
class DeliveryAdmin(GrowingTableAdmin, ModelAdmin):
    list_display = (
        "event_id",
        "event_type",
        "subscription",
        "stream_key",
        "status",
        "attempts",
        "last_status_code",
        "last_attempt_at",
        "next_attempt_at",
    )
    # All subscriptions (a small table): RelatedOnlyFieldListFilter would SELECT DISTINCT over every delivery.
    list_filter = ("status", "event__type", "subscription")
    search_fields = ("event__event_id", "stream_key", "subscription__subscription_id", "subscription__url")
    list_select_related = ("event", "subscription")
    readonly_fields = (
        "event",
        "subscription",
        "stream_key",
        "seq",
        "status",
        "attempts",
        "next_attempt_at",
        "locked_until",
        "first_attempt_at",
        "last_attempt_at",
        "delivered_at",
        "last_status_code",
        "last_error",
        "created_at",
        "payload",
    )
    fields = readonly_fields
    inlines = [AttemptInline]
    actions = ["send_again"]

    def has_add_permission(self, request):
        return False

    @admin.display(description="event", ordering="event__event_id")
    def event_id(self, obj):
        return obj.event.event_id

    @admin.display(description="type", ordering="event__type")
    def event_type(self, obj):
        return obj.event.type

    @admin.display(description="payload")
    def payload(self, obj):
        return format_html("<pre style='white-space: pre-wrap'>{}</pre>", obj.event.body)

    @admin.action(description="Send again (same webhook-id)")
    def send_again(self, request, queryset):
        _each(
            self,
            request,
            queryset,
            lambda delivery: services.delivery_send_again(actor=request.user, delivery=delivery),
            "Queued again",
        )


@admin.register(OutboxEvent)
class OutboxEventAdmin(GrowingTableAdmin, ModelAdmin):
    list_display = ("event_id", "type", "account", "order_key", "created_at", "dispatched_at")
    list_filter = ("type", ("account", DistinctValuesFilter))  # not SELECT DISTINCT over every event
    search_fields = ("event_id", "order_key")
    readonly_fields = ("event_id", "type", "account", "order_key", "created_at", "dispatched_at", "body")
    fields = readonly_fields
    date_hierarchy = "created_at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
