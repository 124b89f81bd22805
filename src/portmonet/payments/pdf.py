"""PDF documents of the payments feature (reportlab): the cash-desk
receipt and the printing sheet of a scratch-card batch.

Text is set in DejaVu Sans (Debian ``fonts-dejavu-core``) so Cyrillic names
print; without it, reportlab's bundled Vera (Latin only) is used.
"""
import io
import os

from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen import canvas

FONT_PATHS = ("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",)
_font = None


def font():
    """The registered font's name (registered once per process)."""
    global _font
    if _font is None:
        import reportlab
        candidates = list(FONT_PATHS) + [os.path.join(os.path.dirname(reportlab.__file__),
                                                      "fonts", "Vera.ttf")]
        path = next(p for p in candidates if os.path.exists(p))
        pdfmetrics.registerFont(TTFont("PortmonetSans", path))
        _font = "PortmonetSans"
    return _font


def _document(title):
    out = io.BytesIO()
    pdf = canvas.Canvas(out, pagesize=A4, invariant=1)
    pdf.setTitle(title)
    pdf.setAuthor("Portmonet")
    return out, pdf


def receipt_pdf(receipt, operator="Portmonet"):
    """A receipt as a PDF (bytes); *receipt* holds the fields of the HTML
    receipt: no, kind, account, payer, amount, currency, reason, cashier,
    posting, when."""
    out, pdf = _document(f"Receipt {receipt['no']}")
    name = font()
    x, y = 20 * mm, A4[1] - 25 * mm
    pdf.setFont(name, 16)
    pdf.drawString(x, y, operator)
    y -= 10 * mm
    pdf.setFont(name, 14)
    pdf.drawString(x, y, "Refund receipt" if receipt["kind"] == "refund" else "Payment receipt")
    y -= 12 * mm
    pdf.setFont(name, 11)
    rows = [("Receipt", receipt["no"]), ("Date (UTC)", receipt.get("when", "")),
            ("Account", receipt["account"]), ("Payer", receipt["payer"]),
            ("Amount", f"{receipt['amount']} {receipt['currency']}")]
    if receipt.get("reason"):
        rows.append(("Reason", receipt["reason"]))
    rows += [("Cashier", receipt["cashier"]), ("Posting", str(receipt["posting"]))]
    for label, value in rows:
        pdf.drawString(x, y, f"{label}:")
        pdf.drawString(x + 35 * mm, y, str(value))
        y -= 7 * mm
    pdf.showPage()
    pdf.save()
    return out.getvalue()


def card_sheet_pdf(batch, pins):
    """The printing sheet of a card batch: one cell per card with serial and
    PIN, 3 x 8 cells a page.  *pins* ([(serial, pin)]) exist only while the
    batch is generated, so this is made then and nowhere else."""
    out, pdf = _document(f"Card batch {batch.series}")
    name = font()
    from ..money import format_amount
    nominal = f"{format_amount(batch.nominal, batch.currency)} {batch.currency}"
    expires = batch.expires.isoformat() if batch.expires else ""
    cols, rows = 3, 8
    width, height = A4
    cell_w, cell_h = (width - 20 * mm) / cols, (height - 30 * mm) / rows
    for start in range(0, len(pins), cols * rows):
        pdf.setFont(name, 9)
        pdf.drawString(10 * mm, height - 12 * mm,
                       f"Batch {batch.series}, {nominal}, valid until {expires}; "
                       f"cards {start + 1}-{min(start + cols * rows, len(pins))} of {len(pins)}")
        for i, (serial, pin) in enumerate(pins[start:start + cols * rows]):
            col, row = i % cols, i // cols
            left = 10 * mm + col * cell_w
            top = height - 20 * mm - row * cell_h
            pdf.rect(left, top - cell_h + 2 * mm, cell_w - 2 * mm, cell_h - 4 * mm)
            pdf.setFont(name, 10)
            pdf.drawString(left + 3 * mm, top - 8 * mm, f"{nominal}")
            pdf.setFont(name, 9)
            pdf.drawString(left + 3 * mm, top - 15 * mm, f"Serial {serial}")
            pdf.setFont(name, 12)
            pdf.drawString(left + 3 * mm, top - 23 * mm, f"PIN {pin[:4]} {pin[4:8]} {pin[8:]}")
        pdf.showPage()
    pdf.save()
    return out.getvalue()
