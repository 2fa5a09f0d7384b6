"""Plain Django JSON views answering the same data as the benchmark's GraphQL queries.

The yardstick of the benchmark (mounted only by ``bench.urls``, never in the product): what a
competent Django developer writes for a JSON endpoint, reusing the product's selectors and
rules, with ``select_related``/``prefetch_related``; no hand-tuned SQL. Each answers the same
JSON document as the ``data`` of the GraphQL query of the same scenario (``bench.queries``),
ids included, so the benchmark can check that both answer the same.
"""

from __future__ import annotations

from django.db.models import prefetch_related_objects
from django.http import JsonResponse
from django.views.decorators.http import require_GET
from strawberry.relay import to_base64

from accounts.models import User
from accounts.selectors import (
    organization_members,
    organizations_visible_to,
    viewer_with_relations,
)
from directory.contact_data import contact_data_merge, contact_text_merge
from directory.listing import contacts_count, contacts_page_ids
from directory.selectors import (
    VIEWER_OVERRIDES,
    contacts_merged_for,
    viewer_overrides_prefetch,
)
from directory.services.contacts import (
    contact_can_delete,
    contact_can_override,
    contact_can_update,
)

PAGE_SIZE_MAX = 100
SEARCH_MAX_CHARS = 100


def _unauthenticated() -> JsonResponse:
    return JsonResponse({"error": "UNAUTHENTICATED"}, status=401)


def _first(request) -> int | None:
    try:
        first = int(request.GET.get("first", PAGE_SIZE_MAX))
    except ValueError:
        return None
    return first if 0 <= first <= PAGE_SIZE_MAX else None


def _avatar_url(request, user: User, field: str) -> str | None:
    avatar = getattr(user, "avatar", None)
    file = getattr(avatar, field, None) if avatar is not None else None
    return request.build_absolute_uri(file.url) if file else None


@require_GET
def me(request):
    if not request.user.is_authenticated:
        return JsonResponse({"me": None})
    user = viewer_with_relations(user=request.user)
    prefetch_related_objects([user], "groups")
    organization = user.organization
    plan = organization.plan_settings if organization else None
    return JsonResponse(
        {
            "me": {
                "id": to_base64("User", user.guid),
                "email": user.email,
                "emailVerified": user.email_verified,
                "firstName": user.profile.first_name,
                "lastName": user.profile.last_name,
                "description": user.profile.description,
                "language": user.language,
                "timezone": user.timezone,
                "avatarUrl": _avatar_url(request, user, "image"),
                "avatarThumbUrl": _avatar_url(request, user, "thumbnail"),
                "organization": organization
                and {
                    "id": to_base64("Organization", organization.pk),
                    "name": organization.name,
                    "plan": {"name": plan["name"], "seats": plan["seats"]},
                },
                "permissionGroups": [
                    {"id": to_base64("PermissionGroup", group.name), "name": group.name}
                    for group in user.groups.all()
                ],
            }
        }
    )


@require_GET
def contacts(request):
    if not request.user.is_authenticated:
        return _unauthenticated()
    first = _first(request)
    if first is None:
        return JsonResponse({"error": "INVALID"}, status=400)
    user = request.user
    search = request.GET.get("search", "")[:SEARCH_MAX_CHARS]
    total = contacts_count(user=user, search=search).value
    ids = contacts_page_ids(user=user, search=search, limit=first + 1)
    page = list(
        contacts_merged_for(user=user)
        .filter(pk__in=ids)
        .only("id", "full_name", "short_name", "data", "owner", "user", "override")
        .prefetch_related(viewer_overrides_prefetch(user=user))[: first + 1]
    )
    edges = []
    for contact in page[:first]:
        override = next(iter(getattr(contact, VIEWER_OVERRIDES)), None)
        full_name, short_name, data = contact.full_name, contact.short_name, contact.data or {}
        if override is not None:
            full_name = contact_text_merge(contact.full_name, override.full_name)
            short_name = contact_text_merge(contact.short_name, override.short_name)
            data = contact_data_merge(contact.data, override.data)
        edges.append(
            {
                "node": {
                    "id": to_base64("Contact", contact.pk),
                    "fullName": full_name,
                    "shortName": short_name,
                    "data": data,
                    "isProfile": contact.is_profile,
                    "abilities": {
                        "canUpdate": contact_can_update(actor=user, contact=contact),
                        "canDelete": contact_can_delete(actor=user, contact=contact),
                        "canOverride": contact_can_override(actor=user, contact=contact),
                    },
                }
            }
        )
    return JsonResponse(
        {
            "contacts": {
                "totalCount": total,
                "pageInfo": {"hasNextPage": len(page) > first},
                "edges": edges,
            }
        }
    )


@require_GET
def members(request):
    if not request.user.is_authenticated:
        return _unauthenticated()
    first = _first(request)
    if first is None:
        return JsonResponse({"error": "INVALID"}, status=400)
    organization = organizations_visible_to(user=request.user).first()
    if organization is None:
        return JsonResponse({"organization": None})
    queryset = organization_members(organization_id=organization.pk).select_related("profile")
    total = queryset.count()
    page = list(
        queryset.only("guid", "email", "profile__first_name", "profile__last_name")[: first + 1]
    )
    return JsonResponse(
        {
            "organization": {
                "members": {
                    "totalCount": total,
                    "pageInfo": {"hasNextPage": len(page) > first},
                    "edges": [
                        {
                            "node": {
                                "id": to_base64("User", member.guid),
                                "email": member.email,
                                "firstName": member.profile.first_name,
                                "lastName": member.profile.last_name,
                            }
                        }
                        for member in page[:first]
                    ],
                }
            }
        }
    )
