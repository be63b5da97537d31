"""Ten WeChat accounts bind one citizen at the same moment: one wins, the others hear 409, nobody sees a 500."""

from __future__ import annotations

import threading
from collections import Counter

from tests.miniprogram_api.conftest import auth


def test_ten_concurrent_bindings_of_one_citizen(app, client, logged_in, city):
    wang = city["people"]["wang"]
    headers = [auth(logged_in(f"racer-{n}")) for n in range(10)]
    barrier = threading.Barrier(len(headers))
    answers: list = [None] * len(headers)

    def bind(index: int) -> None:
        own_client = app.test_client()
        barrier.wait(timeout=30)
        response = own_client.post("/mp/v1/binding", headers=headers[index],
                                   json={"name": wang["name"], "id_number": wang["id_number"], "phone": "13712345678"})
        answers[index] = (response.status_code, response.get_json()["code"] if response.status_code != 201 else "")

    threads = [threading.Thread(target=bind, args=(n,)) for n in range(len(headers))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=90)
    statuses = Counter(status for status, _ in answers)
    assert statuses[201] == 1, answers
    # The others are told the identity is bound elsewhere (or, on SQLite, that the store is busy: retry).
    print(sorted(answers))
    assert set(statuses) <= {201, 409, 503}, answers
    assert all(code == "already_bound_other" for status, code in answers if status == 409), answers
