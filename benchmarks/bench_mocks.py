"""Benchmark of the mock sampler (jeans_nbdev.mocks.bench_mocks): OM DF table and 10,000-star draw, medians."""
from jeans_nbdev.mocks import bench_mocks

if __name__ == "__main__":
    bench_mocks(n=10_000)
    bench_mocks(n=200_000, repeats=3)
