"""Graded checks for ``cnf.py``: brute-force Jacobian traces, and linear flows whose pushforward is
Gaussian in closed form, which fix the integration's direction and every sign."""
from __future__ import annotations

import numpy as np
import torch
from hypothesis import strategies as st

from course.cnf import oracles
from course.strategies import dtypes, floats, seeded
from grader.check import Check, Claim, Extra, Tol
from grader.facets import CheckFailure, expect_close
from grader.plain import summarize
from grader.scenarios import Owned

CELLS = Extra("cells", ("torchdyn",))
F64 = torch.float64
# tsit5 at torchdyn's default tolerances misses by 1e-6, Euler with 100 steps by 3e-3, one RK4 step by 0.2; the
# wrong directions and signs miss by more than 0.1
_SOLVED = Tol(atol=5e-3, rtol=5e-3)


def _fail_unless_tensor(f, value, shape: tuple, what: str) -> torch.Tensor:
    if type(value) is not torch.Tensor or tuple(value.shape) != shape:
        raise CheckFailure(f"{f.target}: {what} is {summarize(value)}, expected a tensor of shape {shape}")
    return value


# -- the vector field ---------------------------------------------------------------------------

_X = 2 * torch.randn(6, 3, generator=seeded(30))
_Y = 2 * torch.randn(6, 3, generator=seeded(31))
_MOVED = torch.cat([_X[:1] + 1.0, _X[1:]])


def _field(f, *calls: dict) -> dict:
    out = f.scenario("cnf_field", dim=3, hidden=16, seed=4, calls=list(calls))
    for value, call in zip(out["outputs"], calls):
        _fail_unless_tensor(f, value, tuple(call["x"].shape), "f(t, x)")
    return out


def _differ(f, a: torch.Tensor, b: torch.Tensor, message: str) -> None:
    if not (a.double() - b.double()).abs().max() > 1e-4:
        raise CheckFailure(f"{f.target}: {message}")


_CLOSE = Tol(1e-5, 1e-5)  # float32 outputs of one module, two ways of calling it


def _same(f, got: torch.Tensor, want: torch.Tensor, what: str, tol: Tol = _CLOSE) -> None:
    expect_close(f.target, got, want.double().numpy(), {"x": want}, tol=tol, what=what)


def _time_dependent(f) -> None:
    out = _field(f, {"t": torch.tensor(0.3), "x": _X}, {"t": torch.tensor(0.8), "x": _X}, {"t": torch.tensor(0.3), "x": _MOVED})
    base, later, moved = out["outputs"]
    _differ(f, later, base, "f(0.8, x) = f(0.3, x): the field must depend on t")
    _differ(f, moved[0], base[0], "changing x left f(t, x) unchanged: the field must depend on x")
    _same(f, moved[1:], base[1:], "changing one sample must leave the other samples' velocities unchanged")
    if not out["trainable"]:
        raise CheckFailure(f"{f.target}: a backward pass through f reached no parameter; the field must be trainable")


def _nonlinear(f) -> None:
    base, other, middle = _field(f, *({"t": torch.tensor(0.3), "x": x} for x in (_X, _Y, (_X + _Y) / 2)))["outputs"]
    _differ(f, middle, (base + other) / 2, "f(t, (x + y) / 2) = (f(t, x) + f(t, y)) / 2: the field is affine in x; "
                                           "an MLP with a nonlinearity can model more than a Gaussian")


def _time_forms(f) -> None:
    base, number, one = _field(f, {"t": torch.tensor(0.3), "x": _X}, {"t": 0.3, "x": _X},
                               {"t": torch.tensor([0.3]), "x": _X})["outputs"]
    _same(f, number, base, "t given as the number 0.3")
    _same(f, one, base, "t given as a 1-element tensor")


def _torchdyn_args(f) -> None:
    base, passed = _field(f, {"t": torch.tensor(0.3), "x": _X}, {"t": torch.tensor(0.3), "x": _X, "args": {}})["outputs"]
    _same(f, passed, base, "called as torchdyn calls it, f(t, x, args={})")


def _float64(f) -> None:
    base, wide = _field(f, {"t": torch.tensor(0.3), "x": _X}, {"t": torch.tensor(0.3), "x": _X.double()})["outputs"]
    if wide.dtype != F64:
        raise CheckFailure(f"{f.target}: the module in float64 returned {wide.dtype} for float64 x; keep x's dtype")
    _same(f, wide, base, "the module and x in float64", tol=Tol(1e-4, 1e-4))


ODEFunc = Check(
    "cnf.ODEFunc", points=1, needs=CELLS,
    claims=(Claim("field_of_time_and_each_sample", _time_dependent),
            Claim("nonlinear_in_x", _nonlinear),
            Claim("time_as_number_or_tensor", _time_forms, core=False, weight=0.1),
            Claim("accepts_torchdyn_args", _torchdyn_args, core=False),
            Claim("keeps_float64", _float64, core=False)),
    reference=False,
    kills=("ignores_time", "centres_the_batch", "linear_field", "time_must_be_tensor", "no_args_parameter",
           "forgets_output_layer"),
)

# -- the trace ----------------------------------------------------------------------------------


@st.composite
def _traced(draw) -> dict:
    d, B, dtype, seed = draw(st.sampled_from([2, 3])), draw(st.integers(1, 4)), draw(dtypes()), draw(st.integers(0, 2**16))
    x = (1.5 * torch.randn(B, d, generator=seeded(seed), dtype=F64)).to(dtype)
    t = draw(st.one_of(floats(0, 1), floats(0, 1).map(torch.tensor)))
    return {"x": x, "t": t, "f": Owned(f"cnf.mlp_field_{d}")}


def _parameter_gradients(f) -> None:
    field, x, t = Owned("cnf.mlp_field_3").fn, torch.randn(4, 3, generator=seeded(40), dtype=F64), 0.6
    weight = torch.randn(4, generator=seeded(41), dtype=F64)
    out = f.scenario("cnf_trace_grads", field="cnf.mlp_field_3", t=t, x=x, weight=weight)
    if out["grads"] is None or any(g is None for g in out["grads"].values()):
        raise CheckFailure(f"{f.target}: no gradient reaches the field's parameters from the trace; keep the graph "
                           "(create_graph=True), or the likelihood cannot train the field")
    rows = x.clone().requires_grad_(True)
    traces = [torch.trace(torch.autograd.functional.jacobian(lambda r: field(t, r[None])[0], row, create_graph=True))
              for row in rows]
    names = [name for name, _ in field.named_parameters()]
    want = torch.autograd.grad((weight * torch.stack(traces)).sum(), list(field.parameters()))
    for name, value in zip(names, want):
        _same(f, out["grads"][name], value, f"d sum(w * trace) / d {name} against the brute-force Jacobian trace",
              tol=Tol(1e-6, 1e-6))


trace_df_dx = Check(
    "cnf.trace_df_dx", points=2, needs=CELLS,
    inputs=_traced(), max_examples=10,
    oracle=oracles.brute_force_trace,
    grad_wrt=("x",), grad_weight=0.25,
    claims=(Claim("gradients_reach_the_fields_parameters", _parameter_gradients),),
    kills=("hutchinson_estimate", "sum_of_all_entries", "no_create_graph", "first_entry_times_dim", "squared_entries",
           "time_ignored"),
)

# -- the flow -----------------------------------------------------------------------------------

_A = np.array([[-0.7, 0.9], [-0.6, 0.2]])  # tr(A) = -0.5
_B = np.array([0.7, -0.5])
_XS = torch.randn(5, 2, generator=seeded(50), dtype=F64)
_W = {"z": torch.randn(5, 2, generator=seeded(51), dtype=F64), "delta_logp": torch.randn(5, generator=seeded(52), dtype=F64),
      "kinetic": torch.randn(5, generator=seeded(53), dtype=F64)}


def _flow_oracle(A: np.ndarray, b: np.ndarray) -> dict[str, np.ndarray]:
    x = _XS.numpy()
    return {"z": oracles.base_point(A, b, x), "delta_logp": np.full(len(x), np.trace(A)), "kinetic": oracles.kinetic(A, b, x)}


def _run_flow(f) -> dict:
    out = f.scenario("cnf_flow", A=torch.tensor(_A), b=torch.tensor(_B), x=_XS, weights=_W)
    if not out["built"]:
        raise CheckFailure(f"{f.target}(dim, hidden) built no ODEFunc(dim, hidden); CNF's vector field is an ODEFunc")
    for name, shape in (("z", (5, 2)), ("delta_logp", (5,)), ("kinetic", (5,))):
        _fail_unless_tensor(f, out[name], shape, f"forward(x)'s {name}")
    return out


_FIELD = "the linear field f(t, x) = A x + t b put in place of ODEFunc"


def _to_base(f) -> None:
    _same(f, _run_flow(f)["z"], torch.tensor(_flow_oracle(_A, _B)["z"]), f"z: {_FIELD}, integrated from the data at t = 1 "
          "down to t = 0 (exp(-M) [x; 1; 1] in closed form)", tol=_SOLVED)


def _integrated_trace(f) -> None:
    _same(f, _run_flow(f)["delta_logp"], torch.full((5,), np.trace(_A)), f"delta_logp = +int_0^1 Tr(df/dx) dt = tr(A) "
          f"for {_FIELD}", tol=_SOLVED)


def _integrated_energy(f) -> None:
    _same(f, _run_flow(f)["kinetic"], torch.tensor(_flow_oracle(_A, _B)["kinetic"]), f"kinetic = int_0^1 |f(t, x(t))|^2 "
          f"dt along the exact path of {_FIELD} (Gauss-Legendre quadrature)", tol=_SOLVED)


def _weighted_total(A: np.ndarray, b: np.ndarray) -> float:
    return sum(float((_W[k].numpy() * v).sum()) for k, v in _flow_oracle(A, b).items())


def _field_gradients(f) -> None:
    grads = _run_flow(f)["grads"]
    if grads is None or grads["A"] is None or grads["b"] is None:
        raise CheckFailure(f"{f.target}: z, delta_logp and kinetic must all carry gradients to the field's parameters")
    h = 1e-6
    for name, base in (("A", _A), ("b", _B)):
        want = np.zeros(base.shape)
        for i in np.ndindex(base.shape):
            up, down = base.copy(), base.copy()
            up[i], down[i] = base[i] + h, base[i] - h
            args = [(up, _B), (down, _B)] if name == "A" else [(_A, up), (_A, down)]
            want[i] = (_weighted_total(*args[0]) - _weighted_total(*args[1])) / (2 * h)
        _same(f, grads[name], torch.tensor(want), f"d sum(w * (z, delta_logp, kinetic)) / d {name} against finite "
              f"differences of the closed forms, for {_FIELD}", tol=_SOLVED)


def _keeps_func(f) -> None:
    if not _run_flow(f)["func_is_built"]:
        raise CheckFailure(f"{f.target}: keep the vector field ODEFunc(dim, hidden) in self.func")


CNF = Check(
    "cnf.CNF", points=2, needs=CELLS,
    claims=(Claim("carries_data_at_t1_to_base_at_t0", _to_base),
            Claim("delta_logp_is_the_integrated_trace", _integrated_trace),
            Claim("kinetic_is_the_integrated_squared_speed", _integrated_energy),
            Claim("gradients_reach_the_field", _field_gradients),
            Claim("keeps_its_field_in_func", _keeps_func, core=False, weight=0.1)),
    reference=False,
    kills=("integrates_base_to_data", "trace_sign_flipped", "speed_not_squared", "one_rk4_step", "time_reversed_field",
           "detached_trace", "field_not_in_func"),
)

# -- the objectives, on grader-owned flows ------------------------------------------------------


@st.composite
def _flows(draw) -> dict:
    d, B, dtype, seed = draw(st.sampled_from([2, 3])), draw(st.integers(1, 4)), draw(dtypes()), draw(st.integers(0, 2**16))
    x = (2 * torch.rand(B, d, generator=seeded(seed), dtype=F64) - 1).mul(3).to(dtype)
    return {"x": x, "model": Owned(f"cnf.gaussian_flow_{d}")}


def _on_flow(fn):
    return lambda x, model: fn(*oracles.field_of(model), x)


cnf_nll = Check(
    "cnf.cnf_nll", points=3, needs=CELLS,
    inputs=_flows(), max_examples=10,
    oracle=_on_flow(oracles.negative_log_density),
    grad_wrt=("x",), grad_weight=0.3,
    kills=("plus_delta_logp", "missing_2pi", "mean_over_batch", "density_of_x_not_z", "not_negated", "kinetic_added"),
)

kinetic_energy = Check(
    "cnf.kinetic_energy", points=2, needs=CELLS,
    inputs=_flows(), max_examples=10,
    oracle=_on_flow(oracles.kinetic),
    tol={"float32": Tol(1e-3, 1e-3), "float64": Tol(1e-4, 1e-4)},  # the energy may be integrated anew from model.func
    grad_wrt=("x",), grad_weight=0.3,
    kills=("returns_delta_logp", "square_root", "half", "mean_over_batch", "norm_of_z", "detached"),
)
