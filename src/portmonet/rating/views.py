"""Web views of rating: the error queue and how a record was priced."""
from html import escape

from pyramid.httpexceptions import HTTPNotFound
from pyramid.response import Response
from pyramid.view import view_config

from .interfaces import IRating


@view_config(context=IRating, name="errors", permission="view")
def errors(context, request):
    rows = []
    for i, (_, parked) in enumerate(context.parked_items()):
        if i >= 500:
            break
        r = parked.record
        rows.append(f"<tr><td>{escape(r.source_id)}</td><td>{escape(r.kind)}</td>"
                    f"<td>{escape(r.subject)}</td><td>{parked.attempts}</td>"
                    f"<td>{escape(parked.reason)}</td></tr>")
    return Response("<!DOCTYPE html><html><head><meta charset='utf-8'><title>Rating errors</title>"
                    f"</head><body><h1>Rating errors ({context.error_count()})</h1><table>"
                    "<tr><th>source</th><th>kind</th><th>subject</th><th>attempts</th>"
                    f"<th>reason</th></tr>{''.join(rows)}</table></body></html>",
                    content_type="text/html", charset="utf-8")


@view_config(context=IRating, name="explain", renderer="json", permission="view")
def explain(context, request):
    rated = context.find(request.params.get("source_id", ""))
    if rated is None:
        raise HTTPNotFound("not rated")
    return {"source_id": rated.source_id, "amount": rated.amount, "base": rated.base,
            "discount": rated.discount, "tax": rated.tax, "tariff": rated.tariff,
            "version": rated.version, "zone": rated.zone, "rule": rated.rule,
            "period": rated.period, "explain": rated.explain(),
            "parts": [dict(zip(("start_us", "end_us", "tariff", "version", "zone", "period",
                                "rule", "billed", "amount"), part)) for part in rated.parts or ()]}
