"""The local stack's cheaper TransactWriteItems backup (slaclock_local.moto_transactions) keeps
DynamoDB's promise: a cancelled transaction leaves every item it names as it was; a committed one
writes them all. And it is what makes transactions cost the transaction, not the table."""

from __future__ import annotations

import time

import boto3
import pytest
from moto import mock_aws
from slaclock_local import moto_transactions

pytestmark = pytest.mark.integration


def _table(client) -> None:
    client.create_table(
        TableName="t",
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
        ],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        BillingMode="PAY_PER_REQUEST",
    )


def _items(client) -> dict[tuple[str, str], dict]:
    out = client.scan(TableName="t")["Items"]
    return {(i["pk"]["S"], i["sk"]["S"]): i for i in out}


def _put(pk: str, sk: str, n: int, condition: str | None = None) -> dict:
    op: dict = {"TableName": "t", "Item": {"pk": {"S": pk}, "sk": {"S": sk}, "n": {"N": str(n)}}}
    if condition:
        op["ConditionExpression"] = condition
    return {"Put": op}


@pytest.fixture
def client():
    moto_transactions.install()
    with mock_aws():
        c = boto3.client("dynamodb", region_name="eu-west-1")
        _table(c)
        yield c


def test_a_cancelled_transaction_changes_no_item_it_names(client):
    client.put_item(TableName="t", Item={"pk": {"S": "a"}, "sk": {"S": "1"}, "n": {"N": "1"}})
    client.put_item(TableName="t", Item={"pk": {"S": "c"}, "sk": {"S": "1"}, "n": {"N": "3"}})
    before = _items(client)
    with pytest.raises(client.exceptions.TransactionCanceledException):
        client.transact_write_items(
            TransactItems=[
                {  # applied by moto before the failing condition below is reached
                    "Update": {
                        "TableName": "t",
                        "Key": {"pk": {"S": "a"}, "sk": {"S": "1"}},
                        "UpdateExpression": "SET n = :v",
                        "ExpressionAttributeValues": {":v": {"N": "99"}},
                    }
                },
                _put("b", "1", 2),  # a new item: must not remain
                {"Delete": {"TableName": "t", "Key": {"pk": {"S": "c"}, "sk": {"S": "1"}}}},
                _put("d", "1", 4, condition="attribute_exists(pk)"),  # fails: cancels the whole
            ]
        )
    assert _items(client) == before


def test_a_repeated_key_is_refused_and_changes_nothing(client):
    client.put_item(TableName="t", Item={"pk": {"S": "a"}, "sk": {"S": "1"}, "n": {"N": "1"}})
    before = _items(client)
    with pytest.raises(client.exceptions.ClientError):
        client.transact_write_items(TransactItems=[_put("a", "1", 5), _put("a", "1", 6)])
    assert _items(client) == before


def test_a_committed_transaction_writes_every_item(client):
    client.transact_write_items(TransactItems=[_put("a", "1", 1), _put("b", "2", 2)])
    assert {k: v["n"]["N"] for k, v in _items(client).items()} == {("a", "1"): "1", ("b", "2"): "2"}


def test_a_transaction_costs_the_transaction_not_the_table(client):
    """Without the fix moto deep-copies the whole table per item named: on 5,000 stored items a
    10-item transaction copies 50,000 items. Compared side by side with one PutItem of the same size."""
    with client_batch(client) as put:
        for i in range(5000):
            put(i)

    def timed(fn) -> float:
        best = float("inf")
        for _ in range(5):
            start = time.perf_counter()
            fn()
            best = min(best, time.perf_counter() - start)
        return best

    counter = iter(range(10**6))

    def transaction() -> None:
        k = next(counter)
        client.transact_write_items(TransactItems=[_put(f"t{k}", str(j), j) for j in range(10)])

    def ten_puts() -> None:
        k = next(counter)
        for j in range(10):
            client.put_item(TableName="t", Item=_put(f"p{k}", str(j), j)["Put"]["Item"])

    # with the whole-table copy it took ~118x ten puts here (2.9 s); without it, 0.2x (8 ms)
    assert timed(transaction) < 5 * timed(ten_puts)


class client_batch:  # noqa: N801 - used as a context manager, like boto3's batch_writer
    def __init__(self, client) -> None:
        self._table = boto3.resource("dynamodb", region_name="eu-west-1").Table("t")

    def __enter__(self):
        self._writer = self._table.batch_writer()
        self._writer.__enter__()
        return lambda i: self._writer.put_item(Item={"pk": f"x{i}", "sk": "1", "n": i})

    def __exit__(self, *exc) -> None:
        self._writer.__exit__(*exc)
