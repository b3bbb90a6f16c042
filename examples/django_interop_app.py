"""Django half of the live interop suite (tests/live/harness.py).

A single-file Django 5.2 project using the cookie-only session backend
`django.contrib.sessions.backends.signed_cookies` with Django's defaults
(cookie `sessionid`, 2 weeks Max-Age/Expires, HttpOnly, SameSite=Lax, Path=/).
No database, no other middleware. The Rust example `django_interop`
implements the same HTTP contract, so one cookie jar can alternate between the
two and each side must see every write of the other.

Configuration (environment):
  SECRET_KEY            the signing key (required)
  SECRET_KEY_FALLBACKS  comma-separated older keys, still accepted on read
  PORT                  port to bind on 127.0.0.1 (default 8000)

Run:  target/venv/bin/python examples/django_interop_app.py   (waitress)

Routes (all JSON):
  GET  /ping      {"ok": true}; never touches the session
  GET  /state     {"session": {...}, "keys": [keys in the session's order]}
  POST /set       {"key": str, "value": any}   -> {"ok": true}
  POST /remove    {"key": str}                 -> {"ok": true}
  POST /clear     request.session.flush(), as logout does -> {"ok": true}
  POST /counter   counter += 1                 -> {"counter": n}
"""

from __future__ import annotations

import json
import os
import sys

from django.conf import settings

SECRET_KEY = os.environ.get("SECRET_KEY")
if not SECRET_KEY:
    sys.exit("django_interop_app: SECRET_KEY is required")

settings.configure(
    DEBUG=False,
    SECRET_KEY=SECRET_KEY,
    SECRET_KEY_FALLBACKS=[k for k in os.environ.get("SECRET_KEY_FALLBACKS", "").split(",") if k],
    ALLOWED_HOSTS=["127.0.0.1", "localhost"],
    ROOT_URLCONF=__name__,
    INSTALLED_APPS=[],
    MIDDLEWARE=["django.contrib.sessions.middleware.SessionMiddleware"],
    SESSION_ENGINE="django.contrib.sessions.backends.signed_cookies",
    USE_TZ=True,
)

from django.http import HttpResponseBadRequest, JsonResponse  # noqa: E402
from django.urls import path  # noqa: E402
from django.views.decorators.csrf import csrf_exempt  # noqa: E402
from django.views.decorators.http import require_GET, require_POST  # noqa: E402


def body(request) -> dict | None:
    try:
        data = json.loads(request.body or b"null")
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


@require_GET
def ping(request):
    return JsonResponse({"ok": True})


@require_GET
def state(request):
    s = request.session
    return JsonResponse({"session": dict(s.items()), "keys": list(s.keys())})


@csrf_exempt
@require_POST
def set_(request):
    data = body(request)
    if data is None or not isinstance(data.get("key"), str) or "value" not in data:
        return HttpResponseBadRequest("expected {key: str, value: any}")
    request.session[data["key"]] = data["value"]
    return JsonResponse({"ok": True})


@csrf_exempt
@require_POST
def remove(request):
    data = body(request)
    if data is None or not isinstance(data.get("key"), str):
        return HttpResponseBadRequest("expected {key: str}")
    request.session.pop(data["key"], None)
    return JsonResponse({"ok": True})


@csrf_exempt
@require_POST
def clear(request):
    request.session.flush()
    return JsonResponse({"ok": True})


@csrf_exempt
@require_POST
def counter(request):
    n = request.session.get("counter", 0) + 1
    request.session["counter"] = n
    return JsonResponse({"counter": n})


urlpatterns = [
    path("ping", ping),
    path("state", state),
    path("set", set_),
    path("remove", remove),
    path("clear", clear),
    path("counter", counter),
]


if __name__ == "__main__":
    import waitress
    from django.core.wsgi import get_wsgi_application

    port = int(os.environ.get("PORT", "8000"))
    waitress.serve(get_wsgi_application(), host="127.0.0.1", port=port, threads=4, _quiet=True)
