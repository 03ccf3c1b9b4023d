from django.conf import settings


def library(request):
    return {"LIBRARY_NAME": settings.LIBRARY_NAME}
