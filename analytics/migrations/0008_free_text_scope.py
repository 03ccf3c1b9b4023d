"""Issue 15: an entry's free text stays in its department unless a Desk admin makes it
library-wide (FormSettings.free_text_library_wide). The Desk admin group reads every
department's free text (Interaction's view_all_free_text) and may change that setting."""

from django.db import migrations, models

from libdesk.migration_permissions import grant_permissions

GROUP = "Desk admin"  # chat migration 0003's
PERMISSIONS = [
    "view_all_free_text",
    "view_interaction",
    "add_formsettings",
    "view_formsettings",
    "change_formsettings",
]


def grant(apps, schema_editor):
    grant_permissions(apps, "analytics", GROUP, PERMISSIONS)


def revoke(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    for group in Group.objects.filter(name=GROUP):
        group.permissions.remove(
            *group.permissions.filter(content_type__app_label="analytics", codename__in=PERMISSIONS)
        )


class Migration(migrations.Migration):
    dependencies = [
        ("analytics", "0007_interaction_report_indexes"),
        ("chat", "0003_desk_admin_group"),
    ]

    operations = [
        migrations.AlterModelOptions(
            name="interaction",
            options={
                "ordering": ["-occurred_at", "-pk"],
                "permissions": [
                    (
                        "view_all_free_text",
                        "Can read every department's question, answer and note",
                    )
                ],
            },
        ),
        migrations.AddField(
            model_name="formsettings",
            name="free_text_library_wide",
            field=models.BooleanField(
                default=False,
                help_text="Off: an entry's question, answer and internal note are shown to "
                "the staff of its department (and to whoever answered or recorded it) and to "
                "Desk admins; the counts are library-wide either way. On: every staff member "
                "reads every entry's free text, in the reports' CSV export and in the admin.",
                verbose_name="free text library-wide",
            ),
        ),
        migrations.RunPython(grant, revoke),
    ]
