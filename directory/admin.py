from django.contrib import admin
from guardian.admin import GuardedModelAdmin

from directory.models import Contact, Team, TeamMembership


@admin.register(Contact)
class ContactAdmin(admin.ModelAdmin):
    list_display = ("full_name", "short_name", "owner", "user", "override", "updated_at")
    search_fields = ("full_name", "short_name", "owner__email")
    list_select_related = ("owner", "user")
    raw_id_fields = ("owner", "user", "override")


class TeamMembershipInline(admin.TabularInline):
    model = TeamMembership
    raw_id_fields = ("user",)
    extra = 0


@admin.register(Team)
class TeamAdmin(GuardedModelAdmin):
    list_display = ("name", "organization", "created_at")
    search_fields = ("name", "organization__name")
    list_select_related = ("organization",)
    inlines = [TeamMembershipInline]
