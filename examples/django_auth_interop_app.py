"""Django half of the live login/CSRF suite (tests/live/login.py --framework django).

A single-file Django 5.2 project: signed-cookie sessions (JSON serializer),
django.contrib.auth with a SQLite user table, and the stock CSRF middleware
(secret in the unsigned `csrftoken` cookie, masked tokens in forms). The Rust
example `django_auth_interop` implements the same HTTP contract (all routes
but /password), so one cookie jar can log in on one side and act on the other,
and a form rendered by one side can be posted to the other.

Configuration (environment):
  SECRET_KEY            the signing key (required)
  SECRET_KEY_FALLBACKS  comma-separated older keys (sessions and auth hashes)
  PORT                  port to bind on 127.0.0.1 (default 8000)
  DB_PATH               the SQLite database (required); shared by every process
  USERS_FILE            where to export the user table for the Rust side (optional):
                        {"42": {"password": "<stored password field>", "is_active": true}, "7": {...}}
                        written atomically (temp file + os.replace) at start-up and
                        again after every save of a User (so a password change is
                        visible to the Rust side before the response leaves)
  CSRF_TRUSTED_ORIGINS  comma-separated origins accepted besides the request's own

Run:  target/venv/bin/python examples/django_auth_interop_app.py          (waitress)
      target/venv/bin/python examples/django_auth_interop_app.py --init   (migrate, seed, export, exit)

On start (and with --init), under a file lock (DB_PATH + ".lock"): `migrate`
when migrations are pending, then users pk 42 "alice" and pk 7 "bob" are
created when missing (password "alice-password" / "bob-password", MD5 hasher
to keep start-up fast), then the user table is exported to USERS_FILE.

Routes (CSRF-checked: every POST; a refusal is HTTP 403 {"error": reason}):
  GET  /ping      {"ok": true}; never touches the session
  GET  /whoami    {"user": str(request.user.pk) or null}
  GET  /form      HTML with <input type="hidden" name="csrfmiddlewaretoken" value="TOKEN">
                  (get_token: sets the csrftoken cookie)
  POST /login     form: csrfmiddlewaretoken, user_id -> auth.login(user, ModelBackend)
                  -> {"user": user_id}; unknown user -> 404 {"error": ...}
  POST /logout    form: csrfmiddlewaretoken -> auth.logout -> {"user": null}
  POST /submit    form: csrfmiddlewaretoken, text (or the token in X-CSRFToken with
                  a JSON {"text": ...} or empty body) -> {"ok": true, "text": text}
  POST /password  form: csrfmiddlewaretoken, user_id, password -> set_password + save,
                  WITHOUT update_session_auth_hash (every session of that user dies)
                  -> {"ok": true}. Python only: the Rust app has no such route.
"""

from __future__ import annotations

import fcntl
import json
import os
import sys
import tempfile

import django
from django.conf import settings

SECRET_KEY = os.environ.get("SECRET_KEY")
if not SECRET_KEY:
    sys.exit("django_auth_interop_app: SECRET_KEY is required")
DB_PATH = os.environ.get("DB_PATH")
if not DB_PATH:
    sys.exit("django_auth_interop_app: DB_PATH is required")
USERS_FILE = os.environ.get("USERS_FILE") or None


def _list(name: str) -> list[str]:
    return [k for k in os.environ.get(name, "").split(",") if k]


settings.configure(
    DEBUG=False,
    SECRET_KEY=SECRET_KEY,
    SECRET_KEY_FALLBACKS=_list("SECRET_KEY_FALLBACKS"),
    ALLOWED_HOSTS=["127.0.0.1", "localhost"],
    ROOT_URLCONF=__name__,
    INSTALLED_APPS=[
        "django.contrib.contenttypes",
        "django.contrib.auth",
        "django.contrib.sessions",
    ],
    MIDDLEWARE=[
        "django.contrib.sessions.middleware.SessionMiddleware",
        "django.middleware.csrf.CsrfViewMiddleware",
        "django.contrib.auth.middleware.AuthenticationMiddleware",
    ],
    DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": DB_PATH, "OPTIONS": {"timeout": 20}}},
    DEFAULT_AUTO_FIELD="django.db.models.AutoField",
    SESSION_ENGINE="django.contrib.sessions.backends.signed_cookies",
    SESSION_SERIALIZER="django.contrib.sessions.serializers.JSONSerializer",
    CSRF_TRUSTED_ORIGINS=_list("CSRF_TRUSTED_ORIGINS"),
    CSRF_FAILURE_VIEW=f"{__name__}.csrf_failure",
    PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"],
    USE_TZ=True,
)
django.setup()

from django.contrib import auth  # noqa: E402
from django.contrib.auth.models import User  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import IntegrityError, connection, transaction  # noqa: E402
from django.db.migrations.executor import MigrationExecutor  # noqa: E402
from django.db.models.signals import post_save  # noqa: E402
from django.http import JsonResponse  # noqa: E402
from django.http import HttpResponse  # noqa: E402
from django.middleware.csrf import get_token  # noqa: E402
from django.urls import path  # noqa: E402
from django.utils.html import escape  # noqa: E402
from django.views.decorators.http import require_GET, require_POST  # noqa: E402

SEED_USERS = [(42, "alice", "alice-password"), (7, "bob", "bob-password")]


# --------------------------------------------------------------------------- database, users file


def export_users() -> None:
    """The user table as the Rust side reads it, replaced atomically."""
    if not USERS_FILE:
        return
    data = {str(u.pk): {"password": u.password, "is_active": u.is_active} for u in User.objects.order_by("pk")}
    directory = os.path.dirname(os.path.abspath(USERS_FILE))
    fd, tmp = tempfile.mkstemp(prefix=".users-", suffix=".json", dir=directory)
    try:
        with os.fdopen(fd, "w") as f:
            json.dump(data, f, indent=1, sort_keys=True)
        os.chmod(tmp, 0o644)
        os.replace(tmp, USERS_FILE)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def _user_saved(sender, instance, **kwargs) -> None:
    transaction.on_commit(export_users)  # at once in autocommit mode


post_save.connect(_user_saved, sender=User)


def prepare_database() -> None:
    """migrate when needed, create the seed users when missing, export; one process at a time."""
    with open(DB_PATH + ".lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            executor = MigrationExecutor(connection)
            if executor.migration_plan(executor.loader.graph.leaf_nodes()):
                call_command("migrate", verbosity=0, interactive=False)
            for pk, username, password in SEED_USERS:
                try:
                    with transaction.atomic():
                        if not User.objects.filter(pk=pk).exists():
                            u = User(pk=pk, username=username)
                            u.set_password(password)
                            u.save(force_insert=True)
                except IntegrityError:
                    pass  # another process created it first
            export_users()
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


# --------------------------------------------------------------------------- views


def csrf_failure(request, reason=""):
    return JsonResponse({"error": f"CSRF: {reason}"}, status=403)


def text_field(request):
    if request.POST:
        return request.POST.get("text")
    try:
        data = json.loads(request.body or b"null")
    except ValueError:
        return None
    return data.get("text") if isinstance(data, dict) else None


def user_by_form(request):
    user_id = request.POST.get("user_id", "")
    try:
        return User.objects.get(pk=int(user_id))
    except (ValueError, User.DoesNotExist):
        return None


@require_GET
def ping(request):
    return JsonResponse({"ok": True})


@require_GET
def whoami(request):
    user = request.user
    return JsonResponse({"user": str(user.pk) if user.is_authenticated else None})


@require_GET
def form(request):
    token = escape(get_token(request))
    return HttpResponse(
        "<!doctype html><title>form</title>\n"
        '<form method="post" action="/submit">\n'
        f'<input type="hidden" name="csrfmiddlewaretoken" value="{token}">\n'
        '<input name="text"><button>send</button>\n'
        "</form>\n",
        content_type="text/html; charset=utf-8",
    )


@require_POST
def login(request):
    user = user_by_form(request)
    if user is None:
        return JsonResponse({"error": f"unknown user {request.POST.get('user_id')!r}"}, status=404)
    auth.login(request, user, backend="django.contrib.auth.backends.ModelBackend")
    return JsonResponse({"user": str(user.pk)})


@require_POST
def logout(request):
    auth.logout(request)
    return JsonResponse({"user": None})


@require_POST
def submit(request):
    return JsonResponse({"ok": True, "text": text_field(request)})


@require_POST
def password(request):
    user = user_by_form(request)
    if user is None:
        return JsonResponse({"error": f"unknown user {request.POST.get('user_id')!r}"}, status=404)
    new = request.POST.get("password", "")
    if not new:
        return JsonResponse({"error": "password is required"}, status=400)
    user.set_password(new)
    user.save()  # no update_session_auth_hash: the user's sessions are invalidated
    return JsonResponse({"ok": True})


urlpatterns = [
    path("ping", ping),
    path("whoami", whoami),
    path("form", form),
    path("login", login),
    path("logout", logout),
    path("submit", submit),
    path("password", password),
]


if __name__ == "__main__":
    prepare_database()
    if "--init" in sys.argv[1:]:
        sys.exit(0)

    import waitress
    from django.core.wsgi import get_wsgi_application

    port = int(os.environ.get("PORT", "8000"))
    waitress.serve(get_wsgi_application(), host="127.0.0.1", port=port, threads=4, _quiet=True)
