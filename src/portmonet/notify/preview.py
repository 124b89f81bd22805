"""A template shown as a real subscriber would get it (the editor's and
the mass mailing's preview): the subscriber's own contract, balance and
name, and example values for what only the event knows (a code, a day)."""
import datetime

from .. import clock
from .compose import variables
from .templating import RenderError, render


def sample_payload(subscriber):
    contracts = [c for c in subscriber.contracts() if c.account is not None]
    payload = {"subscriber": subscriber.id, "days_left": 3, "code": "123456",
               "until": (clock.today() + datetime.timedelta(days=1)).isoformat(),
               "number": 1, "period": clock.month_of(clock.today())}
    if contracts:
        contract, account = contracts[0], contracts[0].account
        payload.update(contract=contract.number, account=account.number,
                       balance=account.balance, credit_limit=account.credit_limit,
                       amount=abs(account.balance) or 10000, closing=account.balance,
                       currency=account.currency, target=account.number)
    return payload


def show(root, subscriber, subject, text, html, settings, channel="mail"):
    """{'subject', 'text', 'html'} or {'error'}."""
    values = variables(root, sample_payload(subscriber), subscriber, settings)
    try:
        return {"subject": render(subject, values).strip(), "text": render(text, values),
                "html": render(html, values, html=True) if channel == "mail" else "",
                "error": ""}
    except RenderError as exc:
        return {"subject": "", "text": "", "html": "", "error": str(exc)}
