"""Gunicorn settings for Roster: ``gunicorn -c gunicorn.conf.py`` (gunicorn also reads this
file by itself when started from this directory). Command-line options such as
``--workers``, ``--threads`` and ``--bind`` add to it.

The master loads the application once (``preload_app``) and forks the workers from it, so
what start-up builds (the URLconf, the GraphQL schema, the ORM's metadata) is shared by
every worker. The garbage collector follows Python's recipe for a pre-forking server
(``gc.freeze`` in the library reference): no collection in the master while it loads, a
freeze right before each fork, collection back on early in each worker. Frozen objects are
never walked by a worker's collector, so a worker neither spends time on them nor writes to
their pages (which would copy them).
"""

import gc
from importlib import import_module

wsgi_app = "backend.wsgi:application"
preload_app = True

gc.disable()


def pre_fork(server, worker):
    from django.conf import settings

    # The URLconf (and with it the views and the schema) is otherwise built by each
    # worker on its first request.
    import_module(settings.ROOT_URLCONF)
    gc.freeze()


def post_fork(server, worker):
    gc.enable()
