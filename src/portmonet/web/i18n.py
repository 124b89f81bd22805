"""Russian and English: message catalogs under ``web/locale`` (domain
``portmonet``), chosen by the ``lang`` cookie the user set, else the
browser's Accept-Language."""
from pyramid.i18n import TranslationStringFactory

_ = TranslationStringFactory("portmonet")

LANGUAGES = ("en", "ru")
COOKIE = "lang"


def negotiate(request):
    chosen = request.cookies.get(COOKIE)
    if chosen in LANGUAGES:
        return chosen
    return request.accept_language.lookup(LANGUAGES, default="en")


def includeme(config):
    config.set_locale_negotiator(negotiate)
    config.add_translation_dirs("portmonet:web/locale")


# Words that come from the model's data and are shown translated.
VOCABULARY = (
    _("draft"), _("active"), _("suspended"), _("blocked"), _("terminated"),
    _("charge"), _("payment"), _("refund"), _("correction"), _("transfer"),
    _("person"), _("organisation"), _("all"), _("on file (encrypted)"),
    _("registration"), _("tariff"), _("pending"), _("approved"), _("rejected"),
)
