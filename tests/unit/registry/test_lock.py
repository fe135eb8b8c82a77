"""The registry lock on a real sqlite registry, including the store's read-back race seen on PostgreSQL in CI."""

from pathlib import Path

import pytest
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException
from mlflow.protos.databricks_pb2 import RESOURCE_DOES_NOT_EXIST

from tasks.core.errors import RegistryBusyError
from tasks.registry.store import lock

NAME = "support-lock"


class LetGoMidInsert(MlflowClient):
    """The store answers a taken name by reading it back; a holder that let go in between makes that read
    fail, and the insert reports RESOURCE_DOES_NOT_EXIST. This client plays that answer `times` times."""

    def __init__(self, uri: str, times: int) -> None:
        super().__init__(tracking_uri=uri, registry_uri=uri)
        self.times = times

    def create_registered_model(self, name, *args, **kwargs):
        if self.times:
            self.times -= 1
            raise MlflowException(f"Registered Model with name={name} not found", RESOURCE_DOES_NOT_EXIST)
        return super().create_registered_model(name, *args, **kwargs)


@pytest.fixture
def uri(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'mlflow.db'}"


def held(client: MlflowClient) -> list[str]:
    return [m.name for m in client.search_registered_models(f"name='{NAME}-deploy-lock'")]


def test_a_holder_letting_go_mid_insert_is_retried_and_the_lock_taken(uri: str) -> None:
    client = LetGoMidInsert(uri, times=2)
    with lock(client, NAME, wait_s=0, stale_s=60, owner="deployer"):
        assert held(client) == [f"{NAME}-deploy-lock"]
    assert client.times == 0
    assert held(client) == []


def test_a_store_that_keeps_failing_the_insert_raises_its_error(uri: str) -> None:
    client = LetGoMidInsert(uri, times=1000)
    with pytest.raises(MlflowException, match="not found"), lock(client, NAME, wait_s=0, stale_s=60, owner="x"):
        pytest.fail("the lock was never taken")
    assert held(client) == []


def test_a_live_holder_is_waited_for_until_the_deadline(uri: str) -> None:
    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    busy = pytest.raises(RegistryBusyError, match=r"another deploy or rollback \(first\)")
    with lock(client, NAME, wait_s=0, stale_s=60, owner="first"), busy, lock(client, NAME, 0.3, 60, "second"):
        pytest.fail("two holders at once")
    assert held(client) == []
