"""Benchmark of jeans_nbdev.train.fit: wall time and steps to convergence on the shipped 1000-star PlumCuspOm _err
file (one ensemble member, full budget). Target: <= 5 minutes per member on a 2-core CPU. Prints the figure path."""
import sys

from jeans_nbdev.train import bench_train

if __name__ == "__main__":
    repeats = int(sys.argv[1]) if len(sys.argv) > 1 else 1
    bench_train(repeats=repeats)
