"""The "Desk admin" group: manages departments, operators, memberships and canned
messages, and reads chats in /admin/. Plain operators belong to no group: they are
staff (the dashboard needs it) with no model permission, so the admin shows them nothing.
"""

from django.db import migrations

from libdesk.migration_permissions import grant_permissions

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
    codenames = [
        f"{action}_{model}" for model, actions in PERMISSIONS.items() for action in actions
    ]
    grant_permissions(apps, "chat", GROUP, codenames)


def remove_group(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name=GROUP).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("chat", "0002_canned_message"),
    ]

    operations = [migrations.RunPython(create_group, remove_group)]
