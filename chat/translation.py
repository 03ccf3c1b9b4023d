"""Department fields written per language (django-modeltranslation).

``greeting`` and ``offline_message`` get one column per language in settings.LANGUAGES
(``greeting_en``, ``greeting_es``, ``greeting_ar``); reading ``department.greeting``
gives the active language's text, else the library's default language's
(MODELTRANSLATION_FALLBACK_LANGUAGES). modeltranslation over django-parler: the texts
stay columns of the department's own row (no join, no per-language row to keep in step),
and the admin shows one field per language.
"""

from modeltranslation.translator import TranslationOptions, register

from chat.models import Department


@register(Department)
class DepartmentTranslationOptions(TranslationOptions):
    fields = ("greeting", "offline_message")
