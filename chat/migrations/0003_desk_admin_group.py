"""The "Desk admin" group: manages departments, operators, memberships and canned
messages, and reads chats in /admin/. Plain operators belong to no group: they are
staff (the dashboard needs it) with no model permission, so the admin shows them nothing.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

GROUP = "Desk admin"
PERMISSIONS = {
    "department": ["add", "change", "delete", "view"],
    "operator": ["add", "change", "delete", "view"],
    "membership": ["add", "change", "delete", "view"],
    "cannedmessage": ["add", "change", "delete", "view"],
    "chat": ["view"],
    "message": ["view"],
    "chataudit": ["view"],
}


def create_group(apps, schema_editor):
    # Permissions are normally made after all migrations (post_migrate); make them now.
    app_config = apps.get_app_config("chat")
    if not getattr(app_config, "models_module", None):  # historical app configs have none
        app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0)
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group, _ = Group.objects.get_or_create(name=GROUP)
    codenames = [f"{action}_{model}" for model, actions in PERMISSIONS.items() for action in actions]
    permissions = Permission.objects.filter(content_type__app_label="chat", codename__in=codenames)
    group.permissions.add(*permissions)


def remove_group(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name=GROUP).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("chat", "0002_canned_message"),
    ]

    operations = [migrations.RunPython(create_group, remove_group)]
