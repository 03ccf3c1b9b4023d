"""The desk's HTTP views, by what they serve:

- ``desk``: the dashboard page, the widget's page, status and chat start, the demo page and
  transcript emails;
- ``canned``: Canned Messages for the picker and their management pages;
- ``attachments``: uploads (patron and staff) and the one checking download view."""
