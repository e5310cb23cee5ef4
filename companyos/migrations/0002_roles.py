"""The console's roles as Django groups, with the model permissions each needs.
Which tenants a role sees is decided in companyos.roles / tenants.selectors, not here."""
from django.contrib.auth.management import create_permissions
from django.db import migrations

WORK = [
    ("cases", "case", ["add", "change", "view"]),
    ("cases", "interaction", ["add", "view"]),
    ("cases", "attachment", ["add", "view"]),
    ("cases", "tag", ["add", "view"]),
    ("cases", "savedview", ["add", "change", "delete", "view"]),
    ("cases", "team", ["view"]),
    ("tenants", "tenant", ["view"]),
    ("tenants", "requester", ["add", "view"]),
    ("tenants", "resource", ["view"]),
]
ROLES = {
    "agent": WORK,
    "senior agent": WORK,
    "engineer": WORK,
    "SRE": WORK,
    "manager": WORK + [("auditlog", "logentry", ["view"])],
    "admin": WORK
    + [
        ("cases", "team", ["add", "change", "delete"]),
        ("cases", "tag", ["change", "delete"]),
        ("tenants", "tenant", ["add", "change"]),
        ("tenants", "requester", ["change", "delete"]),
        ("tenants", "resource", ["add", "change", "delete"]),
        ("auth", "user", ["add", "change", "view"]),
        ("auth", "group", ["view"]),
        ("auditlog", "logentry", ["view"]),
        ("companyos", "profile", ["add", "change", "view"]),
    ],
}


def create_roles(apps, schema_editor):
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, verbosity=0, apps=apps)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for role, grants in ROLES.items():
        group, _ = Group.objects.get_or_create(name=role)
        for app_label, model, actions in grants:
            codenames = [f"{action}_{model}" for action in actions]
            perms = Permission.objects.filter(content_type__app_label=app_label, codename__in=codenames)
            group.permissions.add(*perms)


def drop_roles(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=ROLES).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("companyos", "0001_initial"),
        ("cases", "0002_initial"),
        ("tenants", "0001_initial"),
        ("auditlog", "0017_add_actor_email"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]
    operations = [migrations.RunPython(create_roles, drop_roles)]
