"""The Desk admin group reads and lifts patron blocks (issue 20) in /admin/."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

GROUP = "Desk admin"
CODENAMES = ["view_patronblock", "change_patronblock"]


def grant(apps, schema_editor):
    app_config = apps.get_app_config("chat")
    if not getattr(app_config, "models_module", None):
        app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0)
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group, _ = Group.objects.get_or_create(name=GROUP)
    group.permissions.add(
        *Permission.objects.filter(content_type__app_label="chat", codename__in=CODENAMES)
    )


def revoke(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group = Group.objects.filter(name=GROUP).first()
    if group:
        group.permissions.remove(
            *Permission.objects.filter(content_type__app_label="chat", codename__in=CODENAMES)
        )


class Migration(migrations.Migration):
    dependencies = [("chat", "0009_workspace_blocks_scrub_marks")]

    operations = [migrations.RunPython(grant, revoke)]
