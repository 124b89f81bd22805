"""The one list of features a deployment has, and the registry every
process builds from it.

``portmonet.features`` in the ini names them, whitespace-separated, in
dependency order: a built-in one by its short name (``radius``), any other
by its dotted package name.  Without the setting a deployment has every
built-in feature and those that installed packages offer in the entry
point group ``portmonet.features`` (``name = package``).  A feature is a
package with an ``includeme(config)`` (its subscribers, panels, views),
and may have a ``commands.py`` with ``register(cli)``.

The web app, ``portmonet`` commands and the workers all call
:func:`bootstrap`, so a subscriber a feature registers runs in whichever
process fired the event.
"""
from importlib.metadata import entry_points

from pyramid.config import Configurator
from pyramid.registry import global_registry
from pyramid.threadlocal import get_current_registry

# In dependency order: rating and billing stand on tariffs.
BUILTIN = ("tariffs", "rating", "billing", "payments", "radius", "traffic", "workflow",
           "notify")
GROUP = "portmonet.features"
SETTING = "portmonet.features"


def _dotted(name):
    return f"portmonet.{name}" if name in BUILTIN else name


def feature_names(settings):
    """Dotted package names of the configured features, in order."""
    listed = (settings or {}).get(SETTING)
    if listed is not None:
        return [_dotted(name) for name in listed.split()]
    names = [_dotted(name) for name in BUILTIN]
    for point in entry_points(group=GROUP):
        if point.value not in names:
            names.append(point.value)
    return names


def has_feature(settings, name):
    return _dotted(name) in feature_names(settings)


def include_features(config):
    """The core's directives first (features use them), then each feature."""
    config.include("pyramid_chameleon")
    config.include("portmonet.web.directives")
    for name in feature_names(config.get_settings()):
        config.include(name)


def bootstrap(settings=None):
    """The registry of a process: the configured features included into a
    Configurator, committed, and made the one events go through."""
    config = Configurator(settings=dict(settings or {}))
    include_features(config)
    config.commit()
    use_registry(config.registry)
    return config.registry


# The registry this process built; a web request's own registry comes first.
_process_registry = None


def use_registry(registry):
    """Make *registry* the one events go through when no request is active."""
    global _process_registry
    _process_registry = registry


def current_registry():
    """The request's registry in the web, else the process's; a process
    that built none (a script, a unit test) gets the default features'."""
    registry = get_current_registry()
    if registry is not global_registry:
        return registry
    if _process_registry is None:
        bootstrap({})
    return _process_registry
