"""What billing does when something happens elsewhere: a payment from any
channel (``PaymentPosted``) unblocks, in the payment's transaction, a
contract that debt control blocked and that the money brings back within
its limit (``debt.after_payment``: ``ServiceUnblocked``, so RADIUS sends its
CoA, and the notice), instead of waiting for the next debt pass."""
from ..events import IPaymentPosted
from .debt import after_payment


def unblock_paid(event):
    after_payment(event.root, event.account)


def includeme(config):
    config.add_subscriber(unblock_paid, IPaymentPosted)
