"""The `jeans_nbdev` command line end to end, as a user runs it (issue 7, "front doors").

- `fit` shows progress; Ctrl-C (SIGINT) after the first checkpoint ends with one line on stderr and status 130, no
  traceback, and leaves the checkpoint; the same command then resumes (it says from which steps) and writes
  profiles.csv and summary.json equal to those of an uninterrupted run with the same seed;
- bad arguments and bad files end with one line `jeans_nbdev: error: ...` and status 2, no traceback.

The fits are tiny (100 stars, 2 members, 6 steps per stage): a test of the plumbing, not of accuracy. The three fit
processes share a JAX compilation cache in a temporary folder, so only the first one compiles.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from jeans_nbdev.cli import PROFILE_COLUMNS, main
from jeans_nbdev.data import shipped_path

# 6 steps per stage, 2 bootstrap members: the first checkpoint comes after seconds. A run's time is mostly JAX
# tracing and compiling (the three training stages, then the profiles), not steps: the second member costs almost
# nothing (the file used 190 s of CPU with 1 member and with 2; 5 min wall on the shared, loaded 2-core machine).
STEPS, MEMBERS, SEED = 6, 2, 3
FIT_TIMEOUT_S = 600                      # a hung process fails the test instead of the CI job
# Resume is exact (the trainer restores parameters, optimiser state, keys and step; the stars are the same), so
# the outputs must agree to the last printed digit; 1e-12 leaves room only for nothing but formatting.
RESUME_RTOL = 1e-12
QUANTITIES = ("nu", "sigma_r2", "M", "rho", "slope", "beta")
PERCENTILE_NAMES = ("p2.5", "p16", "p50", "p84", "p97.5")
INTERRUPT_MSG = "jeans_nbdev: interrupted; run the same command again to resume from {}"


def _cli() -> list[str]:
    "The installed console script next to this Python (what a user runs), else the same entry point via -c."
    exe = Path(sys.executable).with_name("jeans_nbdev")
    if exe.is_file():
        return [str(exe)]
    return [sys.executable, "-c", "from jeans_nbdev.cli import console; console()"]


def _lines(text: str) -> list[str]:
    "Non-blank lines, with tqdm's carriage-return redraws split apart."
    return [l.strip() for l in re.split(r"[\r\n]+", text) if l.strip()]


def _no_traceback(err: str):
    assert "Traceback" not in err and "Exception ignored" not in err and "KeyboardInterrupt" not in err, err[-3000:]


def _messages(err: str) -> list[str]:
    "The command's own lines on stderr, without its warnings (2 members draw a BandWarning)."
    return [l for l in _lines(err) if l.startswith("jeans_nbdev") and not l.startswith("jeans_nbdev: warning:")]


@pytest.fixture(scope="module")
def work(tmp_path_factory):
    d = tmp_path_factory.mktemp("cli")
    cat = d / "stars.dat"
    shutil.copy(shipped_path("PlumCuspOm", 100, err=True), cat)
    # the package's compilation cache as a user has it (shared with the notebooks' fits where shapes agree)
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    return d, cat, env


def _fit_args(cat: Path, out: Path) -> list[str]:
    return [*_cli(), "fit", str(cat), "--beta", "om:0.1", "--out", str(out), "--members", str(MEMBERS),
            "--steps", str(STEPS), "--seed", str(SEED)]


def _run(args, env, log: Path):
    "Run to the end with stdout/stderr in files (tqdm would fill a pipe nobody reads); (status, stdout, stderr)."
    with open(log.with_suffix(".out"), "w") as o, open(log.with_suffix(".err"), "w") as e:
        rc = subprocess.run(args, stdout=o, stderr=e, env=env, timeout=FIT_TIMEOUT_S).returncode
    return rc, log.with_suffix(".out").read_text(), log.with_suffix(".err").read_text()


def _read_profiles(path: Path):
    header = path.read_text().splitlines()[0].split(",")
    return header, np.loadtxt(path, delimiter=",", skiprows=1)


def _comparable(summary: dict) -> dict:
    "summary.json without what legitimately differs between runs (timing, whether it resumed)."
    return {k: v for k, v in summary.items() if k not in ("wall_time_s", "resumed")}


def _assert_same(a, b, path=""):
    "Equal JSON trees; numbers to RESUME_RTOL."
    if isinstance(a, dict):
        assert isinstance(b, dict) and a.keys() == b.keys(), f"{path}: keys {a.keys()} != {b.keys()}"
        for k in a:
            _assert_same(a[k], b[k], f"{path}.{k}")
    elif isinstance(a, list):
        assert isinstance(b, list) and len(a) == len(b), path
        for i, (x, y) in enumerate(zip(a, b)):
            _assert_same(x, y, f"{path}[{i}]")
    elif isinstance(a, float) and not isinstance(a, bool):
        np.testing.assert_allclose(b, a, rtol=RESUME_RTOL, err_msg=path)
    else:
        assert a == b, f"{path}: {a!r} != {b!r}"


def test_interrupt_and_resume_equals_uninterrupted(work):
    d, cat, env = work
    t0 = time.perf_counter()
    # 1. the reference: the same command, never interrupted
    ref = d / "ref"
    rc, out, err = _run(_fit_args(cat, ref), env, d / "ref_log")
    assert rc == 0, err[-3000:]
    _no_traceback(err)
    for stage in ("positions", "velocities", "joint"):   # progress is shown, one bar per stage for all members
        assert re.search(rf"{stage}, members 1-{MEMBERS} of {MEMBERS} together: 100%.*{STEPS // 2 if stage == 'joint' else STEPS}/",
                         err), f"no {stage} progress"
    assert "resuming" not in out and "Results in" in out
    t_ref = time.perf_counter() - t0

    # 2. the same command, Ctrl-C once the first checkpoint is on disk
    run = d / "run"
    first = run / "checkpoints" / "positions" / "checkpoint.eqx"
    with open(d / "int.out", "w") as o, open(d / "int.err", "w") as e:
        p = subprocess.Popen(_fit_args(cat, run), stdout=o, stderr=e, env=env)
        try:
            deadline = time.monotonic() + FIT_TIMEOUT_S
            while not first.exists() and p.poll() is None and time.monotonic() < deadline:
                time.sleep(0.05)
            assert first.exists(), "no checkpoint appeared"
            assert p.poll() is None, "the fit ended before it could be interrupted"
            p.send_signal(signal.SIGINT)
            rc = p.wait(timeout=120)
        finally:
            if p.poll() is None:
                p.kill()
    err = (d / "int.err").read_text()
    _no_traceback(err)
    msgs = _messages(err)
    assert rc == 130 and msgs == [INTERRUPT_MSG.format(run / "checkpoints")], (rc, msgs, err[-2000:])
    assert _lines(err)[-1] == msgs[0]                        # the message is the last thing printed
    assert first.exists() and not (run / "profiles.csv").exists() and not (run / "summary.json").exists()
    t_int = time.perf_counter() - t0 - t_ref

    # 3. the same command again: resumes from the checkpoint(s), says so, and finishes
    rc, out, err = _run(_fit_args(cat, run), env, d / "resume_log")
    assert rc == 0, err[-3000:]
    _no_traceback(err)
    note = [l for l in _lines(out) if l.startswith("resuming from")]
    assert len(note) == 1 and f"{MEMBERS} members; positions " in note[0], out
    assert f"joint {STEPS // 2}/{STEPS // 2}" not in note[0], f"nothing left to train after the interrupt: {note[0]}"
    t_res = time.perf_counter() - t0 - t_ref - t_int

    # 4. the outputs equal the uninterrupted run's
    header, table = _read_profiles(run / "profiles.csv")
    want = ["r_kpc", "constrained"] + [f"{PROFILE_COLUMNS[q][0]}_{p}" for q in QUANTITIES for p in PERCENTILE_NAMES]
    assert header == want, header
    assert table.shape == (table.shape[0], len(want)) and table.shape[0] >= 10 and np.all(np.isfinite(table))
    ref_header, ref_table = _read_profiles(ref / "profiles.csv")
    assert ref_header == header
    np.testing.assert_allclose(table, ref_table, rtol=RESUME_RTOL, atol=0)
    s_run, s_ref = (json.loads((x / "summary.json").read_text()) for x in (run, ref))
    assert s_run["resumed"] is True and s_ref["resumed"] is False
    _assert_same(_comparable(s_ref), _comparable(s_run))
    # the trainer's final states, byte for byte (parameters, optimiser state, histories)
    for f in sorted((ref / "checkpoints").glob("*/checkpoint.eqx")):
        g = run / f.relative_to(ref)
        assert g.read_bytes() == f.read_bytes(), f"checkpoint {f.relative_to(ref)} differs after the resume"
    assert len(list((ref / "checkpoints").glob("*/checkpoint.eqx"))) == 3   # one per stage, holding every member
    print(f"\ncli resume test: reference {t_ref:.1f} s, interrupted after {t_int:.1f} s, resumed run {t_res:.1f} s")



def test_other_run_into_same_folder_refused(work, capsys):
    "A fit into a folder that holds another run's checkpoints: one line naming what differs, nothing trained."
    from jeans_nbdev.cli import _config, _parser, _run_record, parse_beta, read_catalog
    d, cat, _ = work
    run = d / "other_run"                    # its own folder: the record of _fit_args' run and one checkpoint file
    a = _parser().parse_args(_fit_args(cat, run)[len(_cli()):])
    (run / "checkpoints" / "positions").mkdir(parents=True, exist_ok=True)
    (run / "checkpoints" / "positions" / "checkpoint.eqx").write_bytes(b"")
    record = _run_record(read_catalog(str(cat)), parse_beta(a.beta), a.members, a.seed, _config(a))
    (run / "checkpoints" / "run.json").write_text(json.dumps(record))
    for flag, value, what in (("--beta", "iso", "beta"), ("--seed", str(SEED + 1), "seed"), ("--steps", "7", "steps"),
                              ("--sigma-prior", "regular", "sigma_prior"), ("--mass-prior", "0", "mass_prior"),
                              ("--monotone-prior", "0", "monotone_prior")):
        argv = _fit_args(cat, run)[len(_cli()):]
        if flag in argv:
            argv[argv.index(flag) + 1] = value
        else:                                   # a default the first run left out
            argv += [flag, value]
        before = {f: f.stat().st_mtime_ns for f in run.rglob("*.eqx")}
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert _lines(err) == [_lines(err)[0]] and "another run" in err and what in err, err
        assert {f: f.stat().st_mtime_ns for f in run.rglob("*.eqx")} == before


def test_prior_options_are_the_fits():
    "--sigma-prior offers exactly the fit's priors, and the CLI's defaults are FitConfig's (one vocabulary, one default)."
    from jeans_nbdev.cli import _config, _parser
    from jeans_nbdev.jeans import SIGMA_PRIORS, FitConfig
    p = _parser()
    choices = next(a.choices for a in p._subparsers._group_actions[0].choices["fit"]._actions if a.dest == "sigma_prior")
    assert tuple(choices) == tuple(SIGMA_PRIORS)
    args = p.parse_args(["demo"])
    assert _config(args).prior == FitConfig().prior and _config(args).model == FitConfig().model


def test_prior_bad_weight(tmp_path, capsys):
    "A negative or NaN --mass-prior or --monotone-prior is refused in one line that names the option, before any fit."
    for opt in ("--mass-prior", "--monotone-prior"):
        for bad in ("-1", "nan"):
            assert main(["demo", "--out", str(tmp_path / "o"), opt, bad]) == 2
            err = capsys.readouterr().err
            assert len(_lines(err)) == 1 and opt in err, err
            assert not (tmp_path / "o" / "checkpoints").exists()


def _bad_catalog(d: Path, name: str, row: int, value: str) -> Path:
    "The shipped catalog with column 6 (v_z, the line-of-sight velocity) of `row` replaced by `value`."
    lines = shipped_path("PlumCuspOm", 100, err=True).read_text().splitlines()
    cols = lines[row - 1].split()
    cols[5] = value
    lines[row - 1] = " ".join(cols)
    p = d / name
    p.write_text("\n".join(lines) + "\n")
    return p


def _bad_cases(d: Path, cat: Path):
    out = str(d / "bad_out")
    return [  # (argv, a substring the one-line message must hold)
        (["fit", str(d / "missing.dat"), "--beta", "iso", "--out", out], "missing.dat: no such file"),
        (["fit", str(_bad_catalog(d, "nan.dat", 7, "nan")), "--beta", "iso", "--out", out], "row 7"),
        (["fit", str(_bad_catalog(d, "text.dat", 9, "fast")), "--beta", "iso", "--out", out], "'fast'"),
        (["fit", str(cat), "--beta", "om:-1", "--out", out], "om:-1"),
        (["fit", str(cat), "--beta", "foo", "--out", out], "'foo'"),
        (["fit", str(cat), "--beta", "const:-inf", "--out", out], "not a finite number"),
        (["fit", str(cat), "--beta", "iso", "--out", out, "--members", "-1"], "--members"),
        (["fit", str(cat), "--beta", "iso", "--out", out, "--verr", "-2"], "--verr"),
        (["fit", str(cat), "--beta", "iso", "--out", str(cat)], "is not a folder"),   # --out is a file
        (["fit", str(cat), "--beta", "iso", "--out", str(cat / "sub")], "cannot write there"),  # below a file
        (["fit", str(d), "--beta", "iso", "--out", out], "is a folder, not a catalog file"),
        (["fit", str(cat), "--beta", "iso", "--out", out, "--seed", str(2**70)], "argument --seed"),
        (["fit", str(_bad_catalog(d, "fast.dat", 5, "5000")), "--beta", "iso", "--out", out], "--drop-outliers"),
        (["fit", str(cat), "--beta", "iso", "--out", out, "--verr", "50"], "[errors]"),
        (["mock", "PlumCuspNope", "--n", "100", "--out", str(d / "m.dat")], "PlumCuspNope"),
        (["fit", str(_half_pm_csv(d)), "--beta", "free", "--out", out], "row 4: column 'vx_kms' is given but 'vy_kms' is empty"),
    ]


def _pm_csv(d: Path) -> Path:
    "A 200-star mock of our sampler as CSV, 100 of its stars with plane-of-sky velocities (5 km/s errors)."
    import jax
    from jeans_nbdev.data import write_csv
    from jeans_nbdev.mocks import observe_proper_motions, sample_mock
    cat = sample_mock(jax.random.key(11), "PlumCuspOm", 200, 2.0)
    return write_csv(d / "pm.csv", observe_proper_motions(cat, 100, 5.0, key=jax.random.key(12)).observed())


def _half_pm_csv(d: Path) -> Path:
    "The proper-motion CSV with v_y of a star that has v_x blanked (its file line 4)."
    lines = _pm_csv(d).read_text().splitlines()
    head = lines[0].split(",")
    k = next(i for i, l in enumerate(lines[1:], 1) if l.split(",")[head.index("vx_kms")])
    cols = lines[k].split(","); cols[head.index("vy_kms")] = ""; lines[k] = ",".join(cols)
    lines[3], lines[k] = lines[k], lines[3]
    p = d / "half_pm.csv"
    p.write_text("\n".join(lines) + "\n")
    return p


def test_bad_input_one_line_in_process(work, capsys):
    "Every bad case through main(): status 2, one line on stderr naming the bad value, nothing written."
    d, cat, _ = work
    for argv, msg in _bad_cases(d, cat):
        rc = main(argv)
        err = capsys.readouterr().err
        assert rc == 2 and _lines(err) == [_lines(err)[0]] and err.startswith("jeans_nbdev: error: "), (argv, err)
        assert msg in err, (argv, msg, err)
    assert not (d / "bad_out").exists() and not (cat / "sub").exists()


@pytest.mark.parametrize("case", [0, 5])
def test_bad_input_one_line_subprocess(work, case):
    "A few of the cases as a user meets them: the console script, status 2, one line, no traceback."
    d, cat, env = work
    argv, msg = _bad_cases(d, cat)[case]
    p = subprocess.run([*_cli(), *argv], capture_output=True, text=True, env=env, timeout=120)
    _no_traceback(p.stderr)
    assert p.returncode == 2 and _lines(p.stderr) == [_lines(p.stderr)[0]] and msg in p.stderr, p.stderr


def _start(args, env, log: Path):
    "A command in the background, stdout and stderr to log files."
    o, e = open(log.with_suffix(".out"), "w"), open(log.with_suffix(".err"), "w")
    return subprocess.Popen(args, stdout=o, stderr=e, env=env), log.with_suffix(".out"), log.with_suffix(".err")


def _wait_for(cond, p, what: str, timeout=FIT_TIMEOUT_S):
    deadline = time.monotonic() + timeout
    while not cond():
        assert p.poll() is None, f"the process ended before {what}"
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def _stopped(p, timeout=120) -> int:
    try:
        return p.wait(timeout=timeout)
    finally:
        if p.poll() is None:
            p.kill()


# Ctrl-C at several moments of a fit with a cold compilation cache: during the imports (0.3 s after the start), and
# during the first compilation (the first progress bar is up, nothing trained yet) twice 0.1 s apart (the second must
# be ignored); the moment after the first checkpoint is test_interrupt_and_resume_equals_uninterrupted's. Each ends
# with status 130 and one line (the 2-member BandWarning aside), no traceback, no segfault, and the line is the last.
MOMENTS = {"imports": 0.3, "twice during the first compilation": "stage 1/3 positions"}


@pytest.mark.parametrize("moment", list(MOMENTS))
def test_interrupt_at_any_moment(work, moment):
    d, cat, env = work
    cold = {k: v for k, v in env.items() if k != "JAX_COMPILATION_CACHE_DIR"} | {"JEANS_NBDEV_CACHE": "off"}
    out = d / f"int_{moment.replace(' ', '_')}"
    p, _, err_path = _start(_fit_args(cat, out), cold, out.with_name(out.name + "_log"))
    when = MOMENTS[moment]
    if isinstance(when, float):
        time.sleep(when)
    else:
        _wait_for(lambda: when in err_path.read_text(), p, "the first progress bar")
        time.sleep(1.0)
    p.send_signal(signal.SIGINT)
    if moment.startswith("twice"):
        time.sleep(0.1); p.send_signal(signal.SIGINT)
    rc = _stopped(p)
    err = err_path.read_text()
    _no_traceback(err)
    assert rc == 130 and len(_messages(err)) == 1 and _messages(err)[0].startswith("jeans_nbdev: interrupted"), (rc, err[-2000:])
    assert _lines(err)[-1] == _messages(err)[0] and "Segmentation" not in err
    assert not (out / "profiles.csv").exists()


def test_one_run_per_folder(work):
    """A second run into a folder in use is refused before it writes anything; once the first is killed (SIGKILL, no
    clean-up) the folder is free again and the next run says that the previous one stopped without finishing."""
    d, cat, env = work
    out = d / "busy"
    first, _, first_err = _start(_fit_args(cat, out), env, d / "busy_first")
    try:
        _wait_for(lambda: (out / "checkpoints" / "run.json").exists(), first, "the first run's record")
        record = (out / "checkpoints" / "run.json").read_text()
        other = _fit_args(cat, out)
        other[other.index("--seed") + 1] = str(SEED + 1)
        rc, _, err = _run(other, env, d / "busy_second")
        assert rc == 2 and _lines(err) == _messages(err) and "another run is using this folder" in err, err
        assert f"pid {first.pid}" in err and (out / "checkpoints" / "run.json").read_text() == record
    finally:
        first.kill(); first.wait()
    third, third_out, _ = _start(_fit_args(cat, out), env, d / "busy_third")
    _wait_for(lambda: "stopped without finishing" in third_out.read_text(), third, "the note on the killed run")
    third.send_signal(signal.SIGINT)
    assert _stopped(third) == 130
    assert f"pid {first.pid}" in third_out.read_text()


def test_real_galaxy_command(work):
    """The real-galaxy command as the README writes it, on a shipped Walker et al. galaxy (Sculptor: every star with its
    membership probability, a photometric sample, positions on the sky, a distance): it runs, takes the light from the
    photometry, weighs the stars and reports J and D with bands (plumbing at 6 steps, not a measurement)."""
    from jeans_nbdev.dwarfs import walker_path
    d, _, env = work
    out = d / "sculptor"
    rc, stdout, err = _run([*_cli(), "fit", str(walker_path("sculptor")), "--photometry", str(walker_path("sculptor", "phot")),
                            "--distance", "86", "--beta", "iso", "--out", str(out), "--members", str(MEMBERS),
                            "--steps", str(STEPS), "--quiet"], env, d / "sculptor_log")
    assert rc == 0, err[-3000:]
    _no_traceback(err)
    s = json.loads((out / "summary.json").read_text())
    assert "photometric sample" in s["light_profile"] and len(s["inputs"]["sky_centre_deg"]) == 2
    assert 1000 < s["membership"]["effective_members"] < 1541 and s["J"]["angle_deg"] == 0.5
    j = s["J"]["log10_GeV2_cm5"]
    assert j["p16"] <= j["p50"] <= j["p84"] and "log10 J(0.5 deg)" in stdout


def test_proper_motion_command(work):
    """`fit CATALOG.csv --beta free` on a mock with proper motions for half its stars: it runs, fits a free-form
    anisotropy and the bulk motion, and says so in summary.json and profiles.csv (plumbing at 6 steps, not a measurement)."""
    d, _, env = work
    out = d / "pm_out"
    rc, _, err = _run([*_cli(), "fit", str(_pm_csv(d)), "--beta", "free", "--out", str(out), "--members", str(MEMBERS),
                       "--steps", str(STEPS), "--quiet"], env, d / "pm_log")
    assert rc == 0, err[-3000:]
    _no_traceback(err)
    s = json.loads((out / "summary.json").read_text())
    assert s["anisotropy"]["mode"] == "free" and len(s["anisotropy"]["members"]) == MEMBERS
    assert s["proper_motions"]["stars"] == 100 and set(s["proper_motions"]["v_sky_kms"]) == {"x", "y"}
    head = (out / "profiles.csv").read_text().splitlines()[0].split(",")
    assert all(f"beta_{p}" in head for p in PERCENTILE_NAMES)
