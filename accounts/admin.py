from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.utils.translation import gettext_lazy

from accounts.audit import Target, audit_organization_forget, audit_record
from accounts.emails import email_retry
from accounts.models import (
    AuditEvent,
    Avatar,
    Invitation,
    Organization,
    OutgoingEmail,
    PendingRegistration,
    ProfileData,
    ResetPasswordToken,
    User,
    UserExternalAuthentication,
    VerificationToken,
)


class ProfileDataInline(admin.StackedInline):
    model = ProfileData
    can_delete = False


class AuditedAdmin:
    """Changes made in the admin go to the audit trail (``admin.<model>.added``,
    ``.changed``, ``.deleted``) with the staff member as actor, through the admin's own
    record-keeping hooks, in the change's transaction. The metadata is the admin's change
    message: the names of the fields changed, never their values."""

    def _audit(self, request, obj, verb: str, message) -> None:
        organization = obj if isinstance(obj, Organization) else getattr(obj, "organization", None)
        target = Target.organization(obj) if isinstance(obj, Organization) else Target.user(obj)
        audit_record(
            f"admin.{obj._meta.model_name}.{verb}",
            actor=request.user,
            organization=organization,
            target=target,
            metadata={"change": message} if message else {},
        )

    def log_addition(self, request, obj, message):
        self._audit(request, obj, "added", message)
        return super().log_addition(request, obj, message)

    def log_change(self, request, obj, message):
        self._audit(request, obj, "changed", message)
        return super().log_change(request, obj, message)

    def log_deletions(self, request, queryset):
        for obj in queryset:
            if isinstance(obj, Organization):
                # Its events go with it, as in a wipe-out; one event says so.
                audit_organization_forget(
                    organization=obj, actor=request.user, action="admin.organization.deleted"
                )
            else:
                self._audit(request, obj, "deleted", None)
        return super().log_deletions(request, queryset)


@admin.register(User)
class UserAdmin(AuditedAdmin, DjangoUserAdmin):
    list_display = (
        "email",
        "organization",
        "email_verified",
        "is_active",
        "is_staff",
        "date_joined",
    )
    list_filter = ("is_active", "is_staff", "email_verified", "groups")
    search_fields = ("email", "profile__first_name", "profile__last_name", "guid")
    list_select_related = ("organization",)
    ordering = ("email",)
    inlines = [ProfileDataInline]
    # Django's fieldsets without first and last name: the names are edited in the
    # profile data below, where they are stored.
    fieldsets = (
        (None, {"fields": ("username", "password")}),
        (gettext_lazy("Personal info"), {"fields": ("email",)}),
        (
            gettext_lazy("Permissions"),
            {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")},
        ),
        (gettext_lazy("Important dates"), {"fields": ("last_login", "date_joined")}),
        (
            "Roster",
            {"fields": ("email_verified", "organization", "language", "timezone", "external_id")},
        ),
    )
    add_fieldsets = (
        (None, {"classes": ("wide",), "fields": ("email", "username", "password1", "password2")}),
    )


@admin.register(Organization)
class OrganizationAdmin(AuditedAdmin, admin.ModelAdmin):
    list_display = ("name", "plan", "domain", "created_at")
    list_filter = ("plan",)
    search_fields = ("name", "domain")


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin):
    list_display = ("email", "organization", "inviter", "created_at", "expires_at", "accepted_at")
    search_fields = ("email", "organization__name")
    list_select_related = ("organization", "inviter")
    exclude = ("token_hash",)


@admin.register(VerificationToken, ResetPasswordToken)
class TokenAdmin(admin.ModelAdmin):
    list_display = ("user", "created_at", "expires_at", "used_at")
    search_fields = ("user__email",)
    list_select_related = ("user",)
    exclude = ("token_hash",)


@admin.register(PendingRegistration)
class PendingRegistrationAdmin(admin.ModelAdmin):
    list_display = ("user", "organization_name", "created_at", "expires_at")
    search_fields = ("user__email",)
    list_select_related = ("user",)


@admin.register(OutgoingEmail)
class OutgoingEmailAdmin(admin.ModelAdmin):
    """Emails waiting for the worker, and those given up after EMAIL_RETRY_MAX attempts
    (the tasks themselves are under "Tasks DB"). The context (which may hold a link's
    token) is not shown."""

    list_display = ("template", "to", "created_at", "attempts", "next_attempt_at", "failed_at")
    list_filter = ("template", ("failed_at", admin.EmptyFieldListFilter))
    search_fields = ("to",)
    exclude = ("context",)
    readonly_fields = ("to", "template", "created_at", "attempts", "next_attempt_at", "failed_at")
    actions = ["retry"]

    def has_add_permission(self, request) -> bool:
        return False

    @admin.action(description=gettext_lazy("Retry delivery of the selected emails"))
    def retry(self, request, queryset):
        for email in queryset:
            email_retry(email)


@admin.register(UserExternalAuthentication)
class ExternalAuthenticationAdmin(admin.ModelAdmin):
    list_display = ("user", "provider", "external_id", "auth_type", "created_at")
    search_fields = ("user__email", "external_id", "provider")
    list_select_related = ("user",)


@admin.register(Avatar)
class AvatarAdmin(admin.ModelAdmin):
    list_display = ("user", "image", "created_at")
    search_fields = ("user__email",)


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    """Read-only: the audit trail is append-only (accounts.audit)."""

    list_display = ("occurred_at", "action", "actor_email", "target_type", "target_label", "chain")
    list_filter = ("action",)
    search_fields = ("actor_email", "target_label", "request_id")
    ordering = ("-id",)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
