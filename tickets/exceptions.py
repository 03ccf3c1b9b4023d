"""Expected failures of the ticket desk (DeskError subclasses: turned into responses)."""

from django.utils.translation import gettext_lazy

from chat.exceptions import DeskError


class RateLimited(DeskError):
    code = "rate_limited"
    default_message = gettext_lazy(
        "You have sent several questions already; please wait a while and try again."
    )


class NoPatronEmail(DeskError):
    code = "no_email"
    default_message = gettext_lazy(
        "This ticket has no email address for the patron yet, so a reply cannot be sent."
    )
