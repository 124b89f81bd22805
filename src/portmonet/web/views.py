"""Views of the core resources."""
from pyramid.view import view_config

from ..interfaces import IRoot


@view_config(context=IRoot, name="health", renderer="json")
def health(context, request):
    """For load balancers and ``make run``: the database answers."""
    return {"status": "ok", "subscribers": len(context["subscribers"])}


@view_config(context=IRoot, renderer="portmonet:web/templates/home.pt")
def home(context, request):
    return {"subscribers": len(context["subscribers"]),
            "tariffs": len(context["tariffs"])}
