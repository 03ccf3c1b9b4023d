from django.db import migrations, models


def keep_every_day_again(apps, schema_editor):
    """The days kept so far have no language figures: they count as not kept (a report
    computes them from the entries and chats) until the next build keeps them again,
    and the months' sums that added them up are dropped (built again after them)."""
    ReportDay = apps.get_model("analytics", "ReportDay")
    ReportMonth = apps.get_model("analytics", "ReportMonth")
    ReportFigure = apps.get_model("analytics", "ReportFigure")
    ReportDay.objects.update(built_token=None)
    ReportFigure.objects.filter(whole_month=True).delete()
    ReportMonth.objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [
        ("analytics", "0010_translated_labels"),
    ]

    operations = [
        migrations.AddField(
            model_name="reportfigure",
            name="language",
            field=models.CharField(blank=True, db_default="", default="", max_length=12),
        ),
        migrations.AlterField(
            model_name="reportfigure",
            name="figure",
            field=models.CharField(
                choices=[
                    ("hour", "Hour"),
                    ("weekday_hour", "Weekday Hour"),
                    ("mode", "Mode"),
                    ("location", "Location"),
                    ("question_type", "Question Type"),
                    ("read_scale", "Read Scale"),
                    ("referral", "Referral"),
                    ("duration", "Duration"),
                    ("wait", "Wait"),
                    ("language", "Language"),
                    ("chat_language", "Chat Language"),
                ],
                max_length=16,
            ),
        ),
        migrations.RunPython(keep_every_day_again, migrations.RunPython.noop),
    ]
