from whitenoise.storage import CompressedManifestStaticFilesStorage


class StaticStorage(CompressedManifestStaticFilesStorage):
    """Hashed, compressed static files, with ES module imports rewritten to the hashed
    names too: the dashboard's extension modules must import the very same
    dashboard.js instance the page loaded."""

    support_js_module_import_aggregation = True
