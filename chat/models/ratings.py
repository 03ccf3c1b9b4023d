"""The patron's side (issue 7): the rating of an ended chat."""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from chat.models.chats import Chat


class ChatRating(models.Model):
    """The patron's optional rating (1–5) and comment, given after the chat ended."""

    chat = models.OneToOneField(
        Chat, on_delete=models.CASCADE, related_name="rating", verbose_name=_("chat")
    )
    score = models.PositiveSmallIntegerField(verbose_name=_("score"))
    comment = models.TextField(blank=True, verbose_name=_("comment"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("updated at"))

    class Meta:
        verbose_name = _("chat rating")
        verbose_name_plural = _("chat ratings")
        constraints = [
            models.CheckConstraint(
                name="chat_rating_score_1_to_5", condition=Q(score__gte=1, score__lte=5)
            )
        ]

    def __str__(self):
        return f"{self.score}/5"
