"""Security headers every response gets."""

from django.conf import settings


class ContentSecurityPolicyMiddleware:
    """A Content-Security-Policy on every page: scripts only from this desk (no inline
    script anywhere), connections only back to this desk, and no framing — except the
    patron widget, which views mark with ``response.csp_frame_ancestors`` (the sites
    allowed to embed it, from WIDGET_ALLOWED_EMBEDDERS).

    A view that sets its own Content-Security-Policy header (e.g. file downloads with a
    sandbox policy) keeps it.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if "Content-Security-Policy" in response:
            return response
        frame_ancestors = getattr(response, "csp_frame_ancestors", "'none'")
        # The Django admin's own templates use inline style attributes (never inline script).
        inline_styles = " 'unsafe-inline'" if request.path.startswith("/admin/") else ""
        host = request.get_host()
        directives = [
            "default-src 'self'",
            "script-src 'self'",
            f"style-src 'self'{inline_styles}",
            "img-src 'self' data: blob:",
            "media-src 'self' blob:",
            "font-src 'self'",
            f"connect-src 'self' ws://{host} wss://{host}",
            "frame-src 'self'",
            "object-src 'none'",
            "base-uri 'self'",
            "form-action 'self'",
            f"frame-ancestors {frame_ancestors}",
        ]
        if getattr(settings, "SECURE_SSL_REDIRECT", False):
            directives.append("upgrade-insecure-requests")
        response["Content-Security-Policy"] = "; ".join(directives)
        return response
