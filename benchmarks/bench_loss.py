"""Benchmark the LOS and smeared-kernel objectives (median ms per jitted forward+grad step)."""
from jeans_nbdev.loss import bench_loss

if __name__ == "__main__":
    bench_loss()
