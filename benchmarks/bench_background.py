"""Benchmark of jeans_nbdev.background: compile time and median time of sigma_los on 100 radii."""
from jeans_nbdev.background import bench_background

if __name__ == "__main__":
    bench_background(n_radii=100, repeats=20)
