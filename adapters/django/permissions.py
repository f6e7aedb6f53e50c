"""Ready-made upload hooks for the ``UPLOADS`` setting: who may upload straight to storage.

    S3MEDIA = {..., "UPLOADS": "s3media_wsgi.adapters.django.permissions.is_staff"}

The hook turns the middleware's upload routes on (``s3/params``,
``s3/multipart``, ``s3/confirm`` under the prefix) and is asked about every
call to them.  The media middleware is first in ``MIDDLEWARE``, so those
requests reach it before ``SessionMiddleware`` and ``AuthenticationMiddleware``:
``request.user`` is not set yet.  These hooks load the user from the session
cookie the way those two would (``django.contrib.sessions`` and
``django.contrib.auth`` must be installed).  Your own hook can do the same
with :func:`request_user`::

    def may_upload(request):
        user = request_user(request)
        return user.is_authenticated and user.has_perm("gallery.add_photo") and user_binding(user)

A hook may answer ``True`` or ``False``, or a ``str`` meaning yes and naming
the uploader: the upload receipts the routes give it are then bound to that
``str``, and a form (:class:`~.fields.MediaFormField`) takes a receipt only
from a request for which the hook answers the same.  The hooks here answer
:func:`user_binding`, the user's primary key, so a receipt is good for its
uploader only.  The hook is asked again when a form checks a receipt, then
with the page's request (``request.user`` set).
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.http import HttpRequest

if TYPE_CHECKING:
    from django.contrib.auth.base_user import AbstractBaseUser
    from django.contrib.auth.models import AnonymousUser


def request_user(request: HttpRequest) -> AbstractBaseUser | AnonymousUser:
    """The user of *request*: ``request.user`` when a middleware set it, else the session's user.

    The session is loaded from its cookie (``SESSION_ENGINE``,
    ``SESSION_COOKIE_NAME``) and left on ``request.session``; nothing is saved.
    """
    user: Any = getattr(request, "user", None)
    if user is not None:
        return user  # type: ignore[no-any-return]
    from django.contrib.auth import get_user

    if not hasattr(request, "session"):
        engine = import_module(settings.SESSION_ENGINE)
        request.session = engine.SessionStore(request.COOKIES.get(settings.SESSION_COOKIE_NAME))
    return get_user(request)


def user_binding(user: AbstractBaseUser | AnonymousUser) -> str | bool:
    """What a hook answers for a *user* it lets upload: the user's primary key, to bind receipts to.

    ``True`` (receipts bound to no one) for a user without a primary key (one
    not stored, from a custom backend): there is nothing stable to bind to.
    """
    return True if user.pk is None else str(user.pk)


def is_authenticated(request: HttpRequest) -> str | bool:
    """Any signed-in user may upload (receipts bound to the user: :func:`user_binding`); else False."""
    user = request_user(request)
    return user_binding(user) if user.is_authenticated else False


def is_staff(request: HttpRequest) -> str | bool:
    """Active staff may upload: whoever may use the admin (where :class:`~.fields.MediaField` uploads).

    Answers :func:`user_binding` for them (receipts bound to the user), False for anyone else.
    """
    user = request_user(request)
    return user_binding(user) if user.is_active and getattr(user, "is_staff", False) else False


__all__ = ["is_authenticated", "is_staff", "request_user", "user_binding"]
