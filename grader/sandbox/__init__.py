"""The sandbox: submitted code runs in a confined worker process, reached only through the handle.

- :mod:`~grader.sandbox.staging`: the bounded copy of a submission the worker sees;
- :mod:`~grader.sandbox.process`: the worker process's life cycle and its requests;
- :mod:`~grader.sandbox.kill`: killing a worker's whole process tree;
- :mod:`~grader.sandbox.implementation`: :class:`SandboxImplementation`, the handle's sandboxed backend.

How a worker is confined is decided in :mod:`grader.isolation`; what runs inside it is
:mod:`grader.worker`.
"""
from grader.sandbox.implementation import SandboxImplementation

__all__ = ["SandboxImplementation"]
