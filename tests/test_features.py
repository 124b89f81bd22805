"""The one feature list: the ini's ``portmonet.features``, else the
built-in features and the installed entry points; and the registry every
process builds from it."""
from importlib.metadata import EntryPoint

from portmonet import events, features


def test_the_ini_names_the_features_short_or_dotted():
    settings = {"portmonet.features": "tariffs billing\n  mycompany.partners"}
    assert features.feature_names(settings) == [
        "portmonet.tariffs", "portmonet.billing", "mycompany.partners"]


def test_without_the_setting_builtins_then_entry_points(monkeypatch):
    offered = [EntryPoint("partners", "mycompany.partners", features.GROUP)]
    monkeypatch.setattr(features, "entry_points",
                        lambda group: offered if group == features.GROUP else [])
    assert features.feature_names({}) == [
        "portmonet.tariffs", "portmonet.rating", "portmonet.billing", "portmonet.payments",
        "portmonet.radius", "portmonet.traffic", "portmonet.workflow",
        "portmonet.notify", "mycompany.partners"]


def test_bootstrap_gives_a_worker_the_features_subscribers():
    with_radius = features.bootstrap({})
    without = features.bootstrap({"portmonet.features": "tariffs rating billing payments"})
    def heard(registry):
        return {getattr(h.factory, "__name__", "") for h in registry.registeredHandlers()
                if events.IServiceBlocked in h.required}
    assert "disconnect_blocked" in heard(with_radius)
    assert "disconnect_blocked" not in heard(without)
    assert features.current_registry() is without          # the last one built is the process's
