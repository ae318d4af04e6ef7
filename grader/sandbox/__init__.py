"""The sandbox: submitted code runs in confined worker processes, reached only through the handle.

- :mod:`~grader.sandbox.staging`: the bounded copy of a submission the workers see;
- :mod:`~grader.sandbox.process`: the fork server's life cycle, and forking a worker from it;
- :mod:`~grader.sandbox.function`: one graded function's worker, its requests and what it holds;
- :mod:`~grader.sandbox.kill`: killing what a worker started after each call, and the whole tree at the end;
- :mod:`~grader.sandbox.scratch`: how full the workers' scratch folder is, and emptying it;
- :mod:`~grader.sandbox.implementation`: :class:`SandboxImplementation`, the handle's sandboxed backend.

How the workers are confined is decided in :mod:`grader.isolation`; what runs inside the sandbox
is :mod:`grader.zygote` (the fork server) and :mod:`grader.worker`.
"""
from grader.sandbox.implementation import SandboxImplementation

__all__ = ["SandboxImplementation"]
