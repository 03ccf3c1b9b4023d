"""For data migrations that give a group permissions (the Desk admin group's)."""

from django.contrib.auth.management import create_permissions


def grant_permissions(apps, app_label: str, group_name: str, codenames) -> None:
    """Add ``app_label``'s permissions ``codenames`` to the group (made if missing)."""
    # Permissions are normally made after all migrations (post_migrate); make them now.
    app_config = apps.get_app_config(app_label)
    if not getattr(app_config, "models_module", None):  # historical app configs have none
        app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0)
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group, _ = Group.objects.get_or_create(name=group_name)
    group.permissions.add(
        *Permission.objects.filter(content_type__app_label=app_label, codename__in=codenames)
    )
