"""Invoices as HTML (a Chameleon template) and PDF (reportlab), on demand."""
import io
import os

from .. import clock
from ..money import format_amount

FONT_PATHS = ("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
              "/usr/share/fonts/TTF/DejaVuSans.ttf")
_font = None


def _issued(inv):
    return clock.day_of(inv.issued_us).isoformat()


def html(inv):
    from chameleon import PageTemplateFile
    template = PageTemplateFile(os.path.join(os.path.dirname(__file__), "templates", "invoice.pt"))
    return template(inv=inv, issued=_issued(inv),
                    money=lambda minor: format_amount(minor, inv.currency))


def _font_name():
    """A TrueType font with Cyrillic (names are often Russian), else Helvetica."""
    global _font
    if _font is None:
        from reportlab.pdfbase import pdfmetrics
        from reportlab.pdfbase.ttfonts import TTFont
        _font = "Helvetica"
        for path in FONT_PATHS:
            if os.path.exists(path):
                pdfmetrics.registerFont(TTFont("DejaVuSans", path))
                _font = "DejaVuSans"
                break
    return _font


def pdf(inv):
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle
    from xml.sax.saxutils import escape

    font = _font_name()
    styles = getSampleStyleSheet()
    for style in styles.byName.values():
        style.fontName = font

    def money(minor):
        return format_amount(minor, inv.currency)

    rows = [["Opening balance", money(inv.opening)]]
    rows += [[label, money(-amount)] for label, amount in inv.lines]
    rows += [["Charges", money(-inv.charges)], ["Payments", money(inv.payments)]]
    if inv.other:
        rows.append(["Other movements", money(inv.other)])
    rows += [["Closing balance", money(inv.closing)], ["of which tax (VAT)", money(inv.tax)]]
    table = Table(rows, colWidths=[330, 120])
    table.setStyle(TableStyle([
        ("FONTNAME", (0, 0), (-1, -1), font),
        ("ALIGN", (1, 0), (1, -1), "RIGHT"),
        ("LINEBELOW", (0, 0), (-1, -1), 0.25, colors.grey),
    ]))
    story = [Paragraph(f"Invoice {inv.label}", styles["Title"]),
             Paragraph(escape(f"Period {inv.period}, issued {_issued(inv)}"), styles["Normal"]),
             Paragraph(escape(f"{inv.name}, {inv.address}"), styles["Normal"]),
             Paragraph(escape(f"Contract {inv.contract}, personal account {inv.account}"),
                       styles["Normal"]),
             Spacer(1, 12), table, Spacer(1, 12)]
    for kind, (count, quantity) in inv.usage:
        unit = "bytes" if kind == "traffic" else "seconds"
        story.append(Paragraph(escape(f"Usage: {kind}: {count} records, {quantity} {unit} charged"),
                               styles["Normal"]))
    story.append(Paragraph(f"Amounts in {inv.currency}.", styles["Normal"]))
    out = io.BytesIO()
    SimpleDocTemplate(out, pagesize=A4, title=f"Invoice {inv.label}",
                      author="Portmonet").build(story)
    return out.getvalue()
