import os

from django.core.wsgi import get_wsgi_application

from backend.process import server_process_ready

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "backend.settings")
application = get_wsgi_application()
server_process_ready()
