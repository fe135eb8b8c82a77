"""How `make test`'s two pytest-xdist workers share the modules.

xdist (`--dist loadfile`) hands a worker its next module as soon as it has two tests or fewer left, so who runs
what depends on how long each test happens to take; and modules that train, or run servers, slow each other
down by a third or more when they meet on two cores (the smoke pipeline's build took 124 s alone and 285 s
beside test_base_model, test_deploy and test_train). The plan below fixes the pairs instead: the e2e module
builds the smoke pipeline while the other worker runs the unit tests (one process each), then e2e's Prefect runs,
test_train, base_model and dvc_pipeline on one worker, deploy and demo on the other. Every other
module goes to whichever worker asks first, and a worker with nothing of its own left takes the other's next
module, so none idles or hangs. With one worker, or more than two, it is plain `loadfile`.

Seconds each took on 2 cores with the other worker busy (2026-12-06, 767 s in all, timed per worker): the unit
tests 311 in all, train 210 (with the two-node test), e2e 208 (153 its first test, which builds the smoke
pipeline), dvc_pipeline 204, demo 179, deploy 95, flows 93 (59 of it the lease running out), serving 42,
object_store 41, prompt_deploy 35, base_model 19, prefect_postgres 18, evaluate 15. The same module moves by
10-20 % between runs of the whole suite on this machine.
"""

from __future__ import annotations

from xdist.scheduler import LoadFileScheduling
from xdist.workermanage import WorkerController

UNIT = "unit/"  # every unit-test module: one process each, light beside the smoke build

# module (under tests/), or every unit module -> the worker that runs it when there are two, in this order
PLAN = {
    "e2e/test_prefect_server.py": 0,
    UNIT: 1,
    "integration/test_deploy.py": 1,
    "integration/test_demo.py": 1,
    "integration/test_train.py": 0,
    "integration/test_base_model.py": 0,
    "integration/test_dvc_pipeline.py": 0,
}
THEN = ("integration/test_flows.py", "integration/test_serving.py", "integration/test_evaluate.py")


def planned(module: str) -> str | None:
    """The key of PLAN that covers a module (path under tests/), if any."""
    if module.startswith(UNIT):
        return UNIT
    return module if module in PLAN else None


def queue_position(module: str) -> tuple[int, int]:
    """Where a module's tests go in the collection: the plan, the other long modules, anything else."""
    if key := planned(module):
        return 0, list(PLAN).index(key)
    return (1, THEN.index(module)) if module in THEN else (2, 0)


class PlannedScheduling(LoadFileScheduling):
    def _assign_work_unit(self, node: WorkerController) -> None:
        """The first module in the queue that is this worker's or nobody's goes first (with two workers)."""
        if len(self.nodes) == 2:
            mine = self.nodes.index(node)
            for scope in self.workqueue:
                if PLAN.get(planned(scope.removeprefix("tests/")) or "", mine) == mine:
                    self.workqueue.move_to_end(scope, last=False)
                    break
        super()._assign_work_unit(node)
