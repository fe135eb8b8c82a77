"""How `make test`'s two pytest-xdist workers share the long modules.

xdist (`--dist loadfile`) hands a worker its next module as soon as it has two tests or fewer left, so who runs
what depends on how long each test happens to take, and two modules that each train with two DeepSpeed ranks
slow each other down by a third when they meet on two cores. The plan below fixes the pairs instead: the e2e
module (which builds the smoke pipeline) and test_dvc_pipeline on one worker; on the other, the short modules
while the smoke pipeline builds, then test_train beside e2e's flow runs, then test_demo. Every other module
goes to whichever worker asks first, and a worker with nothing of its own left takes the other's next module.

Seconds each took on 2 cores: e2e 550, demo 310, train 260, deploy 100, dvc_pipeline 90, flows 45,
base_model 35, serving 30, evaluate 20, the unit tests 110 in all: about 770 on each worker.
"""

from __future__ import annotations

from xdist.scheduler import LoadFileScheduling
from xdist.workermanage import WorkerController

# module (under tests/) -> the worker that runs it when there are two; the queue starts in this order
PLAN = {
    "e2e/test_prefect_server.py": 0,
    "integration/test_base_model.py": 1,
    "integration/test_deploy.py": 1,
    "integration/test_train.py": 1,
    "integration/test_dvc_pipeline.py": 0,
    "integration/test_demo.py": 1,
}
THEN = ("integration/test_flows.py", "integration/test_serving.py", "integration/test_evaluate.py")


def queue_position(module: str) -> tuple[int, int]:
    """Where a module's tests go in the collection: the plan, the other long modules, anything else."""
    if module in PLAN:
        return 0, list(PLAN).index(module)
    return (1, THEN.index(module)) if module in THEN else (2, 0)


class PlannedScheduling(LoadFileScheduling):
    def _assign_work_unit(self, node: WorkerController) -> None:
        """The first module in the queue that is this worker's or nobody's goes first (with two workers)."""
        if len(self.nodes) == 2:
            mine = self.nodes.index(node)
            for scope in self.workqueue:
                if PLAN.get(scope.removeprefix("tests/"), mine) == mine:
                    self.workqueue.move_to_end(scope, last=False)
                    break
        super()._assign_work_unit(node)
