import os

from django.core.asgi import get_asgi_application

from backend.process import server_process_ready

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "backend.settings")
application = get_asgi_application()
server_process_ready()
