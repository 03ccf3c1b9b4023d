"""The check's reading of models and the admin (tests/libdesk/i18n_check.py): a label is
found however short where it is one, and left alone where the words are a translation's
or not a label at all."""

from tests.libdesk import i18n_check

UNMARKED = """
from django.contrib import admin
from django.db import models
from crispy_forms.layout import Field


class Shelf(models.Model):
    class Kind(models.TextChoices):
        OPEN = "open", "Open stacks"
        CLOSED = "closed"  # no label given: Django derives it
    name = models.CharField("shelf name", max_length=10)
    room = models.ForeignKey("Room", on_delete=models.CASCADE)  # the model, not a label
    size = models.CharField(max_length=2, choices=[("s", "Small"), ("l", "Large")])

    class Meta:
        verbose_name = "shelf"


class ShelfAdmin(admin.ModelAdmin):
    fieldsets = [(None, {"fields": ["name"]}), ("Where", {"fields": ["room"]})]
    layout = Field("name")  # a crispy layout names a field

    @admin.display(description="Books")
    def books(self, obj):
        return 0

    @admin.action(description="Weed")
    def weed(self, request, queryset):
        self.message_user(request, "Weeded.")
"""

MARKED = UNMARKED
for text in ("Open stacks", "shelf name", "Small", "Large", "shelf", "Where", "Books", "Weed"):
    MARKED = MARKED.replace(f'"{text}"', f'_("{text}")')
MARKED = MARKED.replace('"Weeded."', '_("Weeded.")')


def test_labels_in_models_and_the_admin_are_found_however_short(tmp_path):
    module = i18n_check.ROOT / "chat" / "_labels_example.py"
    try:
        module.write_text(UNMARKED)
        assert sorted(t for _p, _l, t in i18n_check.python_findings(module)) == sorted(
            [
                "Open stacks",
                "shelf name",
                "Small",
                "Large",
                "shelf",
                "Where",
                "Books",
                "Weed",
                "Weeded.",
            ]
        )
        module.write_text("from django.utils.translation import gettext_lazy as _\n" + MARKED)
        assert i18n_check.python_findings(module) == []
    finally:
        module.unlink(missing_ok=True)
