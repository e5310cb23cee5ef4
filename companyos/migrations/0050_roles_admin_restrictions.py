"""The roles keep in the Django admin only what the console lets them do (issue 8, finding 6).

Writes that belong to a service are no role's model permission any more: cases, their timeline
and attachments are written by cases.services alone (the admin shows cases read-only), a saved view
is created and shared from the queue. Only admins keep the configuration they do in the admin
(teams, tags, tenants and who sees them, requesters, resources, users, profiles). Deleting a saved
view stays, since the admin routes it through cases.services.saved_view_delete (own views; an
admin's shared ones; never a built-in one)."""

from django.db import migrations

EVERY_ROLE = [
    ("cases", "case", ["add", "change"]),
    ("cases", "interaction", ["add"]),
    ("cases", "attachment", ["add"]),
    ("cases", "savedview", ["add", "change"]),
]
NOT_ADMIN = [
    ("cases", "tag", ["add"]),
    ("tenants", "requester", ["add"]),
]
ROLES = ["agent", "senior agent", "engineer", "SRE", "manager", "admin"]


def _revoked(role: str):
    return EVERY_ROLE + (NOT_ADMIN if role != "admin" else [])


def _permissions(apps, grants):
    Permission = apps.get_model("auth", "Permission")
    for app_label, model, actions in grants:
        yield from Permission.objects.filter(
            content_type__app_label=app_label, codename__in=[f"{action}_{model}" for action in actions]
        )


def restrict(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    for group in Group.objects.filter(name__in=ROLES):
        group.permissions.remove(*_permissions(apps, _revoked(group.name)))


def unrestrict(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    for group in Group.objects.filter(name__in=ROLES):
        group.permissions.add(*_permissions(apps, _revoked(group.name)))


class Migration(migrations.Migration):
    dependencies = [("companyos", "0007_profile_timeline_order")]
    operations = [migrations.RunPython(restrict, unrestrict)]
