import os

from django.core.wsgi import get_wsgi_application

from backend.tracing import tracing_start

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "backend.settings")
# Before Django loads its middleware: the tracing middleware is added to it.
tracing_start()
application = get_wsgi_application()
