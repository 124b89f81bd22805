"""Showing a form page (and re-showing it with its messages)."""
from ..i18n import _


def form_page(request, form, title, action, submit=_("Save"), **extra):
    if request.method == "POST" and form.errors:
        # The form comes back with its messages; say so in the status too.
        request.response.status_int = 400
    return dict({"form": form, "page_title": title, "action": action, "submit": submit}, **extra)
