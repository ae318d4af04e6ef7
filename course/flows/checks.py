"""Graded checks for ``flows.py``: autograd Jacobians and torch.distributions as oracles."""
from __future__ import annotations

import numpy as np
import torch
from torch.autograd.functional import jacobian
from torch.distributions import MultivariateNormal

from hypothesis import strategies as st

from grader.check import Check, Claim, Default, Example, Tol
from grader.facets import expect_close
from course.strategies import args, floats, seeded, tensor

F64 = torch.float64
_dims = st.integers(1, 3)


def _layer(u, w, b):
    """The planar map x -> x + u tanh(w.x + b) on one point, in float64 torch."""
    u, w, b = (torch.as_tensor(np.asarray(a, dtype=np.float64)).reshape(-1) for a in (u, w, b))
    return lambda x: x + u * torch.tanh(x @ w + b)


def _planar(z, u, w, b) -> np.ndarray:
    f = _layer(u, w, b)
    return np.stack([f(torch.as_tensor(row)).numpy() for row in z])


def _jacobian_logdet(z, u, w, b, eps) -> np.ndarray:
    """log(|det J| + eps) per row, J the autograd Jacobian of the planar map at the row."""
    f = _layer(u, w, b)
    dets = [torch.linalg.det(jacobian(f, torch.as_tensor(row))).item() for row in z]
    return np.log(np.abs(dets) + eps)[:, None]  # (B, 1)


def _invertible(kw: dict) -> dict:
    """Replace u by u_hat = u + (m(w.u) - w.u) w / |w|^2, m(x) = -1 + softplus(x): then w.u_hat > -1."""
    u, w = kw["u"].double(), kw["w"].double()
    if float(w.pow(2).sum()) > 1e-3:
        wu = float(u @ w.T)
        u = u + (-1 + np.logaddexp(0, wu) - wu) * w / w.pow(2).sum()
    return {**kw, "u": u.to(kw["z"].dtype)}


def _layer_args(*, invertible: bool):
    eps = {"eps": st.sampled_from([1e-8, 1e-6, 1e-3])} if invertible else {}
    drawn = args(z=tensor("B", "d", elements=floats(-2, 2)), u=tensor(1, "d", elements=floats(-1, 1)),
                 w=tensor(1, "d", elements=floats(-1, 1)), b=tensor(1, elements=floats(-1, 1)),
                 dims={"d": _dims}, **eps)
    return drawn.map(_invertible) if invertible else drawn

_zero_det = {"z": torch.zeros(2, 2), "u": torch.tensor([[1.0, 0.0]]), "w": torch.tensor([[-1.0, 0.0]]),
             "b": torch.zeros(1)}  # 1 + u.psi = 0 at z = 0: eps keeps the log finite
_negative_det = {"z": torch.tensor([[0.0, 0.0], [0.3, 1.0]], dtype=F64), "u": torch.tensor([[2.0, 0.5]], dtype=F64),
                 "w": torch.tensor([[-1.0, 0.2]], dtype=F64), "b": torch.tensor([0.1], dtype=F64)}  # not invertible

planar_transformation = Check(
    "flows.planar_transformation", points=1,
    inputs=_layer_args(invertible=False), examples=(_negative_det,), max_examples=15,
    oracle=_planar,
    grad_wrt=("z", "u", "w", "b"),
    kills=("no_tanh", "u_and_w_swapped", "minus_b", "elementwise_not_dot", "missing_identity"),
)


def _flow_of_layers(f) -> None:
    """Three layers of the provided Flow: the summed log-dets equal log |det| of the whole map's Jacobian."""
    g = seeded(7)
    layers = [{"u": 0.8 * torch.randn(1, 2, generator=g, dtype=F64), "w": 0.8 * torch.randn(1, 2, generator=g, dtype=F64),
               "b": 0.5 * torch.randn(1, generator=g, dtype=F64)} for _ in range(3)]
    z = torch.randn(5, 2, generator=g, dtype=F64)
    maps = []
    for layer in layers:  # u_hat, as adjust_u makes it
        hat = _invertible({"z": z, **layer})
        maps.append(_layer(hat["u"], hat["w"], hat["b"]))

    def flow(x):
        for m in maps:
            x = m(x)
        return x

    want = np.log(np.abs([torch.linalg.det(jacobian(flow, row)).item() for row in z]))[:, None]
    out = f.scenario("flow_logdet", layers=layers, z=z)
    expect_close(f.target, out["logdet"], want, {"z": z}, tol=Tol(atol=1e-6, rtol=1e-6),
                 what="the provided Flow (3 planar layers, log-dets at each layer's input) against autograd on the "
                      "composed map")


get_logdet = Check(
    "flows.get_logdet", points=2,
    inputs=_layer_args(invertible=True), max_examples=15,
    # eps outside the absolute value matters where 1 + u.psi < 0
    examples=({**_negative_det, "eps": 1e-3}, {**_negative_det, "eps": 1e-8}),
    oracle=_jacobian_logdet,
    grad_wrt=("z", "u", "w", "b"),
    claims=(Claim("flow_of_layers", _flow_of_layers),),
    edges=(Example("zero_determinant", ({**_zero_det, "eps": 1e-8},)),),
    defaults=(Default("eps", 1e-8),),
    kills=("no_abs", "psi_tanh_not_derivative", "at_output", "flat_shape", "missing_one", "no_eps"),
)


def _log_normal(z0: np.ndarray) -> np.ndarray:
    d = z0.shape[1]
    return MultivariateNormal(torch.zeros(d, dtype=F64), torch.eye(d, dtype=F64)).log_prob(torch.as_tensor(z0)).numpy()


_base = dict(z0=tensor("B", "d", elements=floats(-4, 4)), logdet=tensor("B", 1, elements=floats(-5, 5)), dims={"d": _dims})

loss1 = Check(
    "flows.loss1", points=4,
    inputs=args(**_base), max_examples=15,
    examples=({"z0": torch.tensor([[0.5, -1.0], [2.0, 0.3], [0.0, 0.0]]), "logdet": torch.tensor([[0.2], [-1.0], [3.0]])},),
    oracle=lambda z0, logdet: -(_log_normal(z0)[:, None] + logdet),
    grad_wrt=("z0", "logdet"),
    kills=("missing_2pi", "logdet_subtracted", "flat_shape", "mean_over_batch", "2pi_once", "missing_half"),
)


def _energies(z: np.ndarray) -> np.ndarray:
    """U1 (arcs) of Rezende & Mohamed, in NumPy."""
    norm = np.linalg.norm(z, axis=1)
    arcs = np.logaddexp(-0.5 * ((z[:, 0] - 2) / 0.6) ** 2, -0.5 * ((z[:, 0] + 2) / 0.6) ** 2)
    return 0.5 * ((norm - 2) / 0.4) ** 2 - arcs


_zk = np.array([[1.5, 0.5], [-2.0, 0.1], [0.2, 1.9]])
loss2 = Check(
    "flows.loss2", points=2,
    inputs=args(target_density=tensor("B", elements=floats(-3, 20)), **_base), max_examples=15,
    examples=({"target_density": torch.tensor(_energies(_zk), dtype=F64), "z0": torch.tensor(_zk - 0.3, dtype=F64),
               "logdet": torch.tensor([[0.4], [-0.2], [1.1]], dtype=F64)},),  # U1 at flow outputs z_K
    oracle=lambda target_density, z0, logdet: _log_normal(z0)[:, None] - logdet + target_density[:, None],
    grad_wrt=("target_density", "z0", "logdet"),
    kills=("plus_logdet", "minus_energy", "broadcast_to_square", "missing_2pi", "negated"),
)
