"""Russian and English, chosen by the browser or by the user."""


def test_accept_language_picks_russian(site):
    client = site.login("cashier")
    page = client.get("/subscribers/1001/", headers={"Accept-Language": "ru-RU,ru;q=0.9,en;q=0.5"})
    assert page.html.html["lang"] == "ru"
    assert "Договоры" in page.text and "Принять платёж" in page.text
    assert "действует" in page.text                      # a status from the data
    en = client.get("/subscribers/1001/", headers={"Accept-Language": "en-GB"})
    assert "Contracts" in en.text and "Договоры" not in en.text


def test_user_choice_beats_the_browser(site):
    client = site.client()
    client.get("/@@lang", {"l": "ru"}, status=302)
    page = client.get("/@@login", headers={"Accept-Language": "en"})
    assert "Войти" in page.text
    client.get("/@@lang", {"l": "xx"}, status=302)        # unknown: ignored
    assert "Войти" in client.get("/@@login").text


def test_form_messages_translated(site):
    client = site.login("cashier")
    form = client.get("/subscribers/1001/1001-1/@@pay", headers={"Accept-Language": "ru"}).forms["form"]
    form["amount"] = ""
    res = form.submit(status=400, headers={"Accept-Language": "ru"})
    assert "Обязательное поле" in res.text or "обязательн" in res.text.lower()
    assert "Сумма" in res.text


def test_refusal_translated(site):
    client = site.client()
    form = client.get("/@@login", headers={"Accept-Language": "ru"}).forms["form"]
    form["login"], form["password"] = "cashier", "wrong"
    res = form.submit(expect_errors=True, headers={"Accept-Language": "ru"})
    assert "Неверный логин или пароль" in res.text
