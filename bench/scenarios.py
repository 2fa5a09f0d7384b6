"""The benchmark's scenarios: a GraphQL query and the plain view answering the same data."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

GRAPHQL_PATH = "/api/user/graphql/"
PAGE = 50
SEARCH = "mar"

ME = """
query Me {
  me {
    id email emailVerified firstName lastName description language timezone
    avatarUrl avatarThumbUrl
    organization { id name plan { name seats } }
    permissionGroups { id name }
  }
}
"""

MEMBERS = """
query Members($first: Int!) {
  organization {
    members(first: $first) {
      totalCount
      pageInfo { hasNextPage }
      edges { node { id email firstName lastName } }
    }
  }
}
"""

CONTACTS = """
query Contacts($search: String, $first: Int!) {
  contacts(search: $search, first: $first) {
    totalCount
    pageInfo { hasNextPage }
    edges {
      node {
        id fullName shortName data isProfile
        abilities { canUpdate canDelete canOverride }
      }
    }
  }
}
"""


@dataclass(frozen=True)
class Scenario:
    name: str
    query: str
    variables: dict
    plain_path: str
    needs_members: bool = False


SCENARIOS = [
    Scenario("me", ME, {}, "/bench/plain/me/"),
    Scenario(
        f"organization {{ members(first: {PAGE}) }}",
        MEMBERS,
        {"first": PAGE},
        "/bench/plain/members/?" + urlencode({"first": PAGE}),
        needs_members=True,
    ),
    Scenario(
        f'contacts(search: "{SEARCH}", first: {PAGE})',
        CONTACTS,
        {"search": SEARCH, "first": PAGE},
        "/bench/plain/contacts/?" + urlencode({"search": SEARCH, "first": PAGE}),
    ),
]
