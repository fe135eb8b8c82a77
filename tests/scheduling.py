"""How `make test`'s two pytest-xdist workers share the modules.

xdist (`--dist loadfile`) hands a worker its next module as soon as it has two tests or fewer left, so who runs
what depends on how long each test happens to take; and modules that train, or run servers, slow each other
down by a third or more when they meet on two cores (the smoke pipeline's build took 124 s alone and 285 s
beside test_base_model, test_deploy and test_train). The plan below fixes the pairs instead: the e2e module
builds the smoke pipeline while the other worker runs the unit tests (one process each), then e2e's Prefect runs,
test_train, base_model and dvc_pipeline on one worker, flows, deploy and demo on the other. Every other
module goes to whichever worker asks first (TAIL's last), and a worker with nothing of its own left takes the
other's next module, so none idles or hangs. With one worker, or more than two, it is plain `loadfile`.

Seconds each took on 2 cores with the other worker busy (2026-12-06, 771 s in all, timed per worker): the unit
tests 350 in all (95 of them the tail's), e2e 221 (the smoke pipeline's build most of it), train 210, dvc_pipeline
202, demo 181, deploy 101, serving 47, object_store 41, flows 30 (92 when the lease's minute ran in the module),
prompt_deploy 28, base_model 18, prefect_postgres 18, evaluate 18. The same module moves by 10-20 % between runs
of the whole suite on this machine.
"""

from __future__ import annotations

from xdist.scheduler import LoadFileScheduling
from xdist.workermanage import WorkerController

from tests.lease import LEASE_MODULE

UNIT = "unit/"  # every unit-test module but TAIL's: one process each, light beside the smoke build
# short unit modules of many tests, last and nobody's: they fill whichever worker is done first, so that the two end
# close together (a worker takes its next module while two tests of its current one are left, so long modules at
# the end go to one worker in a row)
TAIL = ("unit/monitoring/", "unit/serving/", "unit/tracking/")

# module (under tests/), or every unit module -> the worker that runs it when there are two, in this order
PLAN = {
    "e2e/test_prefect_server.py": 0,
    UNIT: 1,
    LEASE_MODULE: 1,  # its holders start with the session (tests/lease.py): their minute passes during the unit tests
    "integration/test_deploy.py": 1,
    "integration/test_demo.py": 1,
    "integration/test_train.py": 0,
    "integration/test_base_model.py": 0,
    "integration/test_dvc_pipeline.py": 0,
}
# the other long ones, longest first
THEN = (
    "integration/test_serving.py",
    "integration/test_object_store.py",
    "integration/test_prompt_deploy.py",
    "e2e/test_prefect_postgres.py",
    "integration/test_evaluate.py",
)


def planned(module: str) -> str | None:
    """The key of PLAN that covers a module (path under tests/), if any."""
    if module.startswith(UNIT) and not module.startswith(TAIL):
        return UNIT
    return module if module in PLAN else None


def owner(module: str) -> int | None:
    """The worker the plan gives a module (path under tests/) to, or None: whichever asks first."""
    return PLAN.get(planned(module) or "")


def planned_worker(module: str, workerinput: dict) -> bool:
    """Whether this xdist worker (its `workerinput`) is the one the plan gives a module to."""
    return workerinput["workercount"] == 2 and owner(module) == worker_index(workerinput)


def worker_index(workerinput: dict) -> int:
    return int(workerinput["workerid"].removeprefix("gw"))


def queue_position(module: str) -> tuple[int, int]:
    """Where a module's tests go in the collection: the plan, the other long modules, anything else, the tail."""
    if key := planned(module):
        return 0, list(PLAN).index(key)
    if module in THEN:
        return 1, THEN.index(module)
    return (3, 0) if module.startswith(TAIL) else (2, 0)


class PlannedScheduling(LoadFileScheduling):
    def _assign_work_unit(self, node: WorkerController) -> None:
        """The first module in the queue that is this worker's or nobody's goes first (with two workers)."""
        if len(self.nodes) == 2:
            mine = worker_index(node.workerinput)
            for scope in self.workqueue:
                if owner(scope.removeprefix("tests/")) in (None, mine):
                    self.workqueue.move_to_end(scope, last=False)
                    break
        super()._assign_work_unit(node)
