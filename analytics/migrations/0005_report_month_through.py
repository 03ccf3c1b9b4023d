from datetime import timedelta

from django.db import migrations, models


def whole_months(apps, schema_editor):
    """The months kept so far were kept whole: through their last day."""
    ReportMonth = apps.get_model("analytics", "ReportMonth")
    for month in ReportMonth.objects.filter(through__isnull=True):
        following = (month.month + timedelta(days=32)).replace(day=1)
        month.through = following - timedelta(days=1)
        month.save(update_fields=["through"])


class Migration(migrations.Migration):
    dependencies = [
        ("analytics", "0004_report_figure_shares"),
    ]

    operations = [
        migrations.AddField(
            model_name="reportmonth",
            name="through",
            field=models.DateField(
                null=True,
                help_text="The last day added up: the month's days from its 1st.",
            ),
        ),
        migrations.RunPython(whole_months, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="reportmonth",
            name="through",
            field=models.DateField(
                help_text="The last day added up: the month's days from its 1st.",
            ),
        ),
    ]
