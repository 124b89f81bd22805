"""Panels and links: what features add to the core's pages without editing
its templates.

A **panel** is a titled block with its own view callable and template, on
the subscriber's card (``card``), the contract page (``contract``) and/or
the subscriber's office home (``office``), registered from a feature's
``includeme``::

    config.add_panel("sessions", sessions_panel, context=ISubscriber,
                     where=("card", "office"), order=10, title=_("Sessions"),
                     renderer="portmonet:radius/templates/sessions_panel.pt")

The view is called ``view(context, request, slot)`` and returns the
template's values, or None to show nothing.  ``slot`` says where it is
drawn (``slot.where``, ``slot.office``, ``slot.page``) and how many rows
to read (``slot.limit``).  Unless ``page=False``, the panel also gets its
own full page at ``@@<name>`` (and ``@@office-<name>`` for the office), the
"more" of the short block, drawn by the same view with ``slot.page`` true.

Staff see a panel with its ``permission`` (``view``); the office shows only
the panels registered for it, with the office's own permission.  A panel
that fails is logged and drawn as an error box: the page still works.

A **link** is an entry of the workplace's navigation (``nav``), of the
office's actions (``office``) or of a service's actions on the contract
page (``service``): ``config.add_link("nav", "tariffs", _("Tariffs"),
href, order=20, permission="view")`` where ``href(request, context)`` gives
the URL, or None to leave the link out; ``permission`` is checked on the
root (``nav``), the subscriber (``office``) or the service (``service``);
``method="post"`` draws a button in a form with the CSRF token.

A **figure** is a number on the dashboard: ``config.add_figure(where,
name, title, value, order)``, where ``where`` is ``figures`` (counts kept
as they change, O(1)) or ``operations`` (what an operator acts on today),
and ``value(root)`` gives the text, or None to leave it out.
"""
import logging
from collections import namedtuple
from dataclasses import dataclass, field

from markupsafe import Markup
from pyramid.httpexceptions import HTTPNotFound
from pyramid.renderers import render
from transaction.interfaces import TransientError
from zope.interface import Interface

from ..interfaces import ISubscriber

log = logging.getLogger(__name__)

CARD, CONTRACT, OFFICE = "card", "contract", "office"
PLACES = (CARD, CONTRACT, OFFICE)
OFFICE_PERMISSION = "office"
SHORT_ROWS = 10          # rows of a block on the card or the office home
PAGE_ROWS = 20           # rows of a panel's own page
PAGE_TEMPLATE = "portmonet:web/templates/panel_page.pt"


class IPanels(Interface):
    """The registry's panels, links and figures (a ``Contributions``)."""


@dataclass
class Panel:
    name: str
    view: object
    context: object
    where: tuple
    order: int
    permission: str
    renderer: str
    title: str


@dataclass
class Link:
    where: str
    name: str
    title: str
    href: object
    order: int
    permission: str
    method: str


@dataclass
class Figure:
    where: str
    name: str
    title: str
    value: object
    order: int


# A link as a template draws it.
Drawn = namedtuple("Drawn", "name title url method")


@dataclass
class Contributions:
    panels: list = field(default_factory=list)
    links: list = field(default_factory=list)
    figures: list = field(default_factory=list)

    def panels_for(self, where, context):
        return sorted((p for p in self.panels
                       if where in p.where and p.context.providedBy(context)),
                      key=lambda p: (p.order, p.name))

    def links_for(self, where):
        return sorted((k for k in self.links if k.where == where),
                      key=lambda k: (k.order, k.name))

    def figures_for(self, where):
        return sorted((f for f in self.figures if f.where == where),
                      key=lambda f: (f.order, f.name))


class Slot:
    """Where a panel is drawn: the card, the contract page, the office home,
    or its own full page (``page``; ``office`` then says whose page)."""

    def __init__(self, request, panel, where, page=False):
        self.request, self.panel, self.where, self.page = request, panel, where, page
        self.office = where == OFFICE
        self.limit = PAGE_ROWS if page else SHORT_ROWS

    @property
    def prefix(self):
        """'office-' for the office's pages, '' for staff."""
        return "office-" if self.office else ""

    def page_url(self, resource, **query):
        """The panel's own page (its "more")."""
        return self.request.resource_url(resource, "@@" + self.prefix + self.panel.name,
                                         query={k: v for k, v in query.items() if v is not None})

    def next_url(self, **query):
        """This page again with *query* changed (the next page's cursor)."""
        keep = {k: v for k, v in self.request.GET.items() if k not in query}
        return self.request.resource_url(self.request.context, self.request.view_name,
                                         query=dict(keep, **query))


def contract_tables(subscriber, request, slot, read, only=None):
    """The values of a panel with one table per contract (calls, invoices,
    payments): on the card one per contract with an account (that *only*
    accepts), on the panel's page the contract named by ``?contract=``.
    ``read(contract, limit, before)`` gives (rows, cursor of the next page
    or None); *before* is the page's ``before`` parameter (text) or None."""
    if slot.page:
        contract = subscriber.get(request.GET.get("contract", ""))
        if contract is None or getattr(contract, "account", None) is None:
            raise HTTPNotFound()
        contracts = [contract]
    else:
        contracts = [c for c in subscriber.contracts()
                     if c.account is not None and (only is None or only(c))]
    name = slot.panel.name
    tables = []
    for contract in contracts:
        rows, cursor = read(contract, slot.limit, request.GET.get("before") if slot.page else None)
        if cursor is None:
            more = None
        elif slot.page:
            more = slot.next_url(before=cursor)
        else:
            more = slot.page_url(subscriber, contract=contract.number, before=cursor)
        tables.append({"c": contract, "a": contract.account, "rows": rows, "more": more,
                       "table_id": name if slot.page else f"{name}-{contract.number}"})
    return {"tables": tables} if tables else None


def contributions(registry):
    found = registry.queryUtility(IPanels)
    if found is None:
        found = Contributions()
        registry.registerUtility(found, IPanels)
    return found


def _draw(request, context, panel, slot):
    values = panel.view(context, request, slot)
    if values is None:
        return None
    values = dict(values, slot=slot, panel=panel, context=context)
    return Markup(render(panel.renderer, values, request=request))


def _error_box(request, panel):
    return Markup('<section class="panel panel-error" id="panel-{}"><h2>{}</h2>'
                  '<p class="error">This block could not be shown; the error is logged.</p>'
                  '</section>').format(panel.name, request.localizer.translate(panel.title))


def draw_panels(request, context, where):
    """The HTML of every panel registered for *where* that the viewer may
    see, in order; a panel that raises becomes an error box."""
    drawn = []
    for panel in contributions(request.registry).panels_for(where, context):
        permission = OFFICE_PERMISSION if where == OFFICE else panel.permission
        if not request.has_permission(permission, context):
            continue
        try:
            html = _draw(request, context, panel, Slot(request, panel, where))
        except TransientError:
            raise                # a read conflict: pyramid_retry runs the request again
        except Exception:        # noqa: BLE001 (one block, not the page)
            log.exception("panel %s failed on %s", panel.name, request.path)
            html = _error_box(request, panel)
        if html is not None:
            drawn.append(html)
    return drawn


def draw_links(request, where, context=None):
    """[Drawn] of the links for *where* the viewer may follow, about
    *context* (the root by default)."""
    context = request.root if context is None else context
    rows = []
    for link in contributions(request.registry).links_for(where):
        if link.permission and not request.has_permission(link.permission, context):
            continue
        url = link.href(request, context)
        if url:
            rows.append(Drawn(link.name, request.localizer.translate(link.title), url,
                              link.method))
    return rows


def figures(registry, root, where):
    """[(name, title, text)] of the dashboard's figures for *where*."""
    rows = []
    for figure in contributions(registry).figures_for(where):
        text = figure.value(root)
        if text is not None:
            rows.append((figure.name, figure.title, text))
    return rows


def _page_view(panel, where):
    def page(context, request):
        slot = Slot(request, panel, where, page=True)
        body = _draw(request, context, panel, slot)
        return {"page_title": panel.title, "s": context, "panel": panel, "slot": slot,
                "body": body or ""}
    return page


def _contribute(config, kind, item, discriminator, **described):
    """Add *item* to the registry's *kind* ("panels", "links", "figures") as
    a configuration action: two with one discriminator conflict, and the
    introspector lists it under "portmonet <kind>"."""
    intr = config.introspectable(f"portmonet {kind}", discriminator, item.name,
                                 f"portmonet {kind[:-1]}")
    intr.update(described)

    def register():
        getattr(contributions(config.registry), kind).append(item)
    config.action(discriminator, register, introspectables=(intr,))


def add_panel(config, name, view, context=ISubscriber, where=(CARD,), order=100,
              permission="view", renderer=None, title=None, page=True):
    """The ``config.add_panel`` directive (see this module's doc)."""
    where = tuple(where)
    unknown = set(where) - set(PLACES)
    if unknown:
        raise ValueError(f"add_panel({name!r}): where must be among {PLACES}, not {unknown}")
    if renderer is None:
        raise ValueError(f"add_panel({name!r}) needs a renderer (a .pt template)")
    panel = Panel(name, config.maybe_dotted(view), context, where, order, permission,
                  renderer, title or name)
    _contribute(config, "panels", panel, ("portmonet-panel", name), where=where, order=order,
                permission=permission, renderer=renderer, context=context)
    if page:
        if CARD in where or CONTRACT in where:
            config.add_view(_page_view(panel, CARD), context=context, name=name,
                            renderer=PAGE_TEMPLATE, permission=permission)
        if OFFICE in where:
            config.add_view(_page_view(panel, OFFICE), context=context, name="office-" + name,
                            renderer=PAGE_TEMPLATE, permission=OFFICE_PERMISSION)


def add_link(config, where, name, title, href, order=100, permission=None, method="get"):
    """The ``config.add_link`` directive (see this module's doc)."""
    link = Link(where, name, title, config.maybe_dotted(href), order, permission, method)
    _contribute(config, "links", link, ("portmonet-link", where, name), where=where,
                order=order, permission=permission)


def add_figure(config, where, name, title, value, order=100):
    """The ``config.add_figure`` directive (see this module's doc)."""
    figure = Figure(where, name, title, config.maybe_dotted(value), order)
    _contribute(config, "figures", figure, ("portmonet-figure", where, name), where=where,
                order=order)


def includeme(config):
    config.add_directive("add_panel", add_panel, action_wrap=False)
    config.add_directive("add_figure", add_figure, action_wrap=False)
    config.add_directive("add_link", add_link, action_wrap=False)

