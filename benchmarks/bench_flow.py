"""Benchmark: RadialFlow training step vs a generic 3D CNF with a brute-force Jacobian trace.

Usage: python benchmarks/bench_flow.py [--dtype float32|float64] [--steps 8] [--reps 10]
"""
import argparse
import jax.numpy as jnp
from jeans_nbdev.flow import bench_flow

if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--dtype", default="both", choices=["float32", "float64", "both"])
    ap.add_argument("--steps", type=int, default=8, help="fixed RK4 steps")
    ap.add_argument("--reps", type=int, default=10, help="timed repetitions (median reported)")
    ap.add_argument("--n", type=int, default=4096, help="points per training step")
    a = ap.parse_args()
    for dt in (["float32", "float64"] if a.dtype == "both" else [a.dtype]):
        bench_flow(n=a.n, reps=a.reps, n_steps=a.steps, dtype=getattr(jnp, dt))
