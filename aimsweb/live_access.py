"""Live pages lose access when their user does.

Every live page's consumer also joins its user's group (`user_group`). When the user logs out, gains or loses a role
or permission, is deactivated or deleted, or has the password changed (which ends the user's other sessions), the
group is told after commit, and each consumer re-checks its own session and permission and closes the socket when
they no longer hold (incidents.live). Events carry the user's id only.
"""

from collections.abc import Iterable

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.contrib.auth.signals import user_logged_out
from django.db.models.signals import m2m_changed, post_delete, post_save

from aimsweb.realtime import broadcast_after_commit

ACCESS_CHANGED_EVENT = "access.changed"


def user_group(user_id: int) -> str:
    """The group of every live page one user has open."""
    return f"user.{user_id}"


def user_access_changed_broadcast(*, user_ids: Iterable[int]) -> None:
    """Tell each user's open live pages to check their access again (after commit)."""
    for user_id in sorted(set(user_ids)):
        broadcast_after_commit(group=user_group(user_id), event=ACCESS_CHANGED_EVENT, ids=[user_id])


def _logged_out(sender, request, user, **kwargs) -> None:
    if user is None:
        return
    # Django ends the session right after this signal; ending it first means the pages' re-check already sees it gone.
    request.session.flush()
    user_access_changed_broadcast(user_ids=[user.pk])


def _user_saved(sender, instance, created: bool, update_fields=None, **kwargs) -> None:
    # A login's last_login stamp changes nothing a page may show; every other save (is_active, is_staff, is_superuser,
    # the password) may.
    if created or (update_fields is not None and set(update_fields) <= {"last_login"}):
        return
    user_access_changed_broadcast(user_ids=[instance.pk])


def _user_deleted(sender, instance, **kwargs) -> None:
    user_access_changed_broadcast(user_ids=[instance.pk])


def _user_links_changed(sender, instance, action: str, reverse: bool, pk_set, **kwargs) -> None:
    """A user's groups or own permissions changed, from either side of the relation."""
    if not reverse:
        if action.startswith("post_"):
            user_access_changed_broadcast(user_ids=[instance.pk])
    elif action in ("post_add", "post_remove"):
        user_access_changed_broadcast(user_ids=pk_set)
    elif action == "pre_clear":  # the users are known only before they are removed
        user_access_changed_broadcast(user_ids=instance.user_set.values_list("pk", flat=True))


def _group_permissions_changed(sender, instance, action: str, reverse: bool, pk_set, **kwargs) -> None:
    """A group's permissions changed: every member's access may have."""
    if reverse:  # a permission's groups
        if action == "pre_clear":
            pk_set = set(instance.group_set.values_list("pk", flat=True))
        elif action not in ("post_add", "post_remove"):
            return
        groups = Group.objects.filter(pk__in=pk_set)
    elif action.startswith("post_"):
        groups = Group.objects.filter(pk=instance.pk)
    else:
        return
    user_access_changed_broadcast(
        user_ids=get_user_model().objects.filter(groups__in=groups).values_list("pk", flat=True)
    )


def live_access_receivers_connect() -> None:
    """Connect the receivers above (from the app's ready())."""
    user_model = get_user_model()
    uid = "aimsweb.live_access"
    user_logged_out.connect(_logged_out, dispatch_uid=f"{uid}.logged_out")
    post_save.connect(_user_saved, sender=user_model, dispatch_uid=f"{uid}.user_saved")
    post_delete.connect(_user_deleted, sender=user_model, dispatch_uid=f"{uid}.user_deleted")
    for through in (user_model.groups.through, user_model.user_permissions.through):
        m2m_changed.connect(_user_links_changed, sender=through, dispatch_uid=f"{uid}.{through.__name__}")
    m2m_changed.connect(_group_permissions_changed, sender=Group.permissions.through, dispatch_uid=f"{uid}.group")
