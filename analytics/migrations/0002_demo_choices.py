"""Starter choice lists, so that a fresh desk (and `make demo`) has a usable form.
Admins rename, reorder, add and retire them in the Django admin. Idempotent by slug."""

from django.db import migrations

CHOICES = {
    "Location": [
        ("reference-desk", "Reference Desk"),
        ("circulation-desk", "Circulation Desk"),
        ("special-collections", "Special Collections Reading Room"),
        ("virtual", "Virtual (online)"),
        ("roaming", "Roaming"),
    ],
    "Mode": [
        ("chat", "Chat"),
        ("in-person", "In person"),
        ("phone", "Phone"),
        ("email", "Email"),
        ("roaming", "Roaming"),
        ("ticket", "Ticket"),
    ],
    "QuestionType": [
        ("directional", "Directional"),
        ("reference", "Reference"),
        ("research", "Research consultation"),
        ("technology", "Technology"),
        ("account", "Account / circulation"),
        ("policy", "Policy"),
    ],
    "PatronType": [
        ("undergraduate", "Undergraduate"),
        ("graduate", "Graduate student"),
        ("faculty", "Faculty"),
        ("staff", "Staff"),
        ("community", "Community member"),
        ("alumni", "Alumni"),
    ],
    "Topic": [
        ("catalog", "Books and the catalog"),
        ("articles", "Articles and databases"),
        ("citations", "Citations"),
        ("ill", "Interlibrary loan"),
        ("printing", "Printing and scanning"),
        ("archives", "Archives and rare books"),
    ],
}


def seed(apps, schema_editor):
    for model_name, rows in CHOICES.items():
        model = apps.get_model("analytics", model_name)
        for position, (slug, name) in enumerate(rows):
            model.objects.get_or_create(slug=slug, defaults={"name": name, "position": position})
    apps.get_model("analytics", "FormSettings").objects.get_or_create(pk=1)


class Migration(migrations.Migration):
    dependencies = [("analytics", "0001_initial")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
