"""Walking a Relay connection as a client does, shared by the tests of paged lists."""

from __future__ import annotations

from collections.abc import Callable


def walk(
    fetch: Callable[..., dict], item: Callable[[dict], object], *, size: int, backwards=False
) -> list:
    """Every item of a connection, page by page: forward with first/after, or backward with
    last/before. ``fetch(**page_arguments)`` answers the connection, ``item(node)`` what to
    collect of each node."""
    items: list = []
    cursor = None
    while True:
        if backwards:
            page = fetch(last=size, before=cursor)
            items = [item(edge["node"]) for edge in page["edges"]] + items
            if not page["pageInfo"]["hasPreviousPage"]:
                return items
            cursor = page["pageInfo"]["startCursor"]
        else:
            page = fetch(first=size, after=cursor)
            items += [item(edge["node"]) for edge in page["edges"]]
            if not page["pageInfo"]["hasNextPage"]:
                return items
            cursor = page["pageInfo"]["endCursor"]
