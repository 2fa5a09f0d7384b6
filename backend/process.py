"""What a server process does once, after it has loaded the application: it sets how the
cyclic garbage collector runs.

A request leaves cyclic garbage behind (a ``select_related`` row and its related row point
at each other, for one). CPython collects the young generation whenever 700 more objects
are alive than at the last collection, which lands in the middle of most requests: each
run then walks every live object of the request under way, and every tenth also walks the
objects that survived earlier runs. Measured on the members page (50 rows), collection
took about 7 % of a GraphQL request's CPU time and 3 % of the plain view's.

Here a process instead:

- freezes what start-up built (the URLconf, the GraphQL schema, the ORM's metadata), which
  no collection could ever free, so no run walks it again (and a forked worker's pages
  stay shared with its parent);
- collects after each response, when the request's own objects are garbage or gone:
  the young generation every time, the middle one every 10th time and everything every
  100th, CPython's own proportions;
- keeps the automatic collector as a backstop for a request that allocates a great deal.

Garbage is collected as before; only when the collector looks changes.
"""

from __future__ import annotations

import gc
from importlib import import_module

# CPython's proportions: one middle-generation run per 10 young ones, one full run per 10
# middle ones.
MIDDLE_EVERY = 10
OLD_EVERY = 10
# The automatic collector's young-generation threshold, for a single request that leaves
# this many more objects alive (CPython's default is 700).
BACKSTOP_THRESHOLD = 50_000


def server_process_ready() -> None:
    """Build what the first request would build, freeze it, and collect after responses."""
    from django.conf import settings
    from django.core.signals import request_finished

    import_module(settings.ROOT_URLCONF)  # and with it the views and the schema
    gc.collect()
    gc.freeze()
    gc.set_threshold(BACKSTOP_THRESHOLD, MIDDLE_EVERY, OLD_EVERY)
    request_finished.connect(collect_after_response, dispatch_uid="roster-collect")


def collect_after_response(**kwargs) -> None:
    """The collection CPython would run next, run between requests."""
    _, young_runs, middle_runs = gc.get_count()
    if middle_runs >= OLD_EVERY - 1 and young_runs >= MIDDLE_EVERY - 1:
        gc.collect(2)
    elif young_runs >= MIDDLE_EVERY - 1:
        gc.collect(1)
    else:
        gc.collect(0)
