import os, time
os.environ.setdefault("DJANGO_SETTINGS_MODULE","companyos.settings")
import django; django.setup()
from django.conf import settings; settings.ALLOWED_HOSTS=["*"]
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.db import connection
from django.contrib.auth import get_user_model
c=Client(); c.force_login(get_user_model().objects.get(username=os.environ.get("U","manager")))
url=os.environ.get("URL","/cases/")
for _ in range(3): c.get(url)
with CaptureQueriesContext(connection) as ctx:
    t=time.perf_counter(); c.get(url); print("total ms", (time.perf_counter()-t)*1000)
for q in ctx.captured_queries:
    print(q["time"], q["sql"][:300])
