"""Small builders shared by tests."""
from portmonet.model.services import InternetService
from portmonet.model.subscriber import Subscriber


def make_subscriber(root, name="Ivanov Ivan", login=None, ip=None, phone=None, email=None,
                    id=None, password="secret", credit_limit=0):
    sub = root["subscribers"].add_subscriber(
        Subscriber(name, phone=phone, email=email), id=id)
    contract = sub.new_contract(credit_limit=credit_limit)
    if login:
        contract.add_service(InternetService(login, password, ip))
    return sub, contract, contract.account
