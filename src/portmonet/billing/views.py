"""Web views of billing: invoices on demand (PDF/HTML), reports on screen
and as CSV.  Invoices need ``view``; reports need ``view_reports``
(accountants, managers, auditors, administrators)."""
import io

from pyramid.httpexceptions import HTTPBadRequest, HTTPNotFound
from pyramid.response import Response
from pyramid.view import view_config

from . import render, reports
from .interfaces import IBilling
from ..clock import day_start_us
from .model import parse_period


@view_config(context=IBilling, name="invoice", permission="view")
def invoice(context, request):
    try:
        number = int(request.params.get("number", ""))
    except ValueError:
        raise HTTPBadRequest("number= is an invoice number")
    inv = context.invoice(number)
    if inv is None:
        raise HTTPNotFound(f"no invoice {number}")
    if request.params.get("format", "pdf") == "html":
        return Response(render.html(inv), content_type="text/html", charset="utf-8")
    return Response(render.pdf(inv), content_type="application/pdf",
                    content_disposition=f'inline; filename="{inv.label}.pdf"')


REPORTS = {"charges", "revenue", "debtors"}


@view_config(context=IBilling, name="report", permission="view_reports")
def report(context, request):
    kind = request.params.get("kind", "charges")
    if kind not in REPORTS:
        raise HTTPBadRequest(f"kind= one of {', '.join(sorted(REPORTS))}")
    root = context.__parent__
    conn = context._p_jar
    if kind == "debtors":
        header, rows = reports.debtors(root, conn)
    else:
        try:
            _, start, end = parse_period(request.params.get("period", ""))
        except ValueError as exc:
            raise HTTPBadRequest(str(exc))
        func = reports.charges if kind == "charges" else reports.revenue_by_tariff
        header, rows = func(root, conn, day_start_us(start), day_start_us(end))
    out = io.StringIO()
    if request.params.get("format") == "csv":
        reports.write_csv(out, header, rows)
        return Response(out.getvalue(), content_type="text/csv", charset="utf-8",
                        content_disposition=f'attachment; filename="{kind}.csv"')
    lines = []
    reports.write_table(lines.append, header, rows)
    from html import escape
    body = "\n".join(escape(line) for line in lines)
    return Response(f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{kind}</title>"
                    f"</head><body><h1>Report: {kind}</h1><pre>{body}</pre></body></html>",
                    content_type="text/html", charset="utf-8")
