"""The billing run: periodic fees, auto-payment, invoices, debt control,
promised payments and accountants' reports (``portmonet bill`` ...)."""
