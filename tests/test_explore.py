"""Checks of the (R, v_z) view of jeans_nbdev.explore that nbs/11_explore.ipynb does not make, on a small untrained
JeansModel (no fit: fast): the smeared model density keeps unit mass (reflection at R = 0; the unsmeared mass of the same
model is checked first) and the smeared density's bad-input errors. The notebook holds the data KDE's mass, the model
density's mass for a fitted member, the mock-against-its-model check and the bandwidths.

Then the explorer on two untrained members: every slider redraws only when released (continuous_update off), the
views stay in step with the controls, it displays as the live widget with static images of the six views as its
fallback (never a raw repr), and no figure's labels collide (the pushforward's tick labels used to)."""
import math
import jax
import numpy as np
import pytest
from jeans_nbdev import explore as ex
from jeans_nbdev.jeans import JeansModel


@pytest.fixture(scope="module")
def model():
    return JeansModel(jax.random.key(0), scale=0.3, v_scale=12.0, v_sys=1.0)   # mixture velocity shape


def test_model_and_smeared_mass(model):
    ln_r = np.asarray(model.flow.radial_table()[0])
    R = np.geomspace(1e-4, 10 * math.exp(ln_r[-1]), 300)
    v = np.linspace(-100, 100, 201)
    p = ex.model_density_rv(model, R, v, 2.0)
    mass = np.trapezoid(np.trapezoid(p * R[:, None], np.log(R), axis=0), v)
    TOL = 3e-3   # 48-node LOS quadrature and the linear 256-point table (measured ~6e-4 missing)
    assert abs(mass - 1) < TOL
    Rg = np.linspace(0, 4.0, 200)   # reflection at R=0 keeps the mass: the smoothed model integrates to 1 too
    ps = ex.smeared_model_density_rv(model, Rg, v, 0.05, 3.0, 2.0)
    assert abs(np.trapezoid(np.trapezoid(ps, v, axis=1), Rg) - 1) < TOL


def test_bad_input(model):
    with pytest.raises(ValueError):
        ex.rv_bandwidths(np.ones(3), np.ones(4))
    with pytest.raises(ValueError):
        ex.smeared_model_density_rv(model, np.linspace(0, 1, 10), np.linspace(-1, 1, 5), 0.05, 1.0, n_fine=16)
    with pytest.raises(ValueError):
        ex.smeared_model_density_rv(model, np.linspace(0, 1, 10), np.linspace(-1, 1, 5), 0.0, 1.0)


# ---------------------------------------------------------------------------------------------- the explorer
@pytest.fixture(scope="module")
def catalog():
    from jeans_nbdev import data
    return data.load_gaia_challenge(data.shipped_path("PlumCuspOm", 1000, err=True))


@pytest.fixture(scope="module")
def explorer(model, catalog):
    "An explorer of two small untrained members (the views and their wiring do not need a fit)."
    other = JeansModel(jax.random.key(1), scale=0.3, v_scale=12.0, v_sys=1.0)
    beta = lambda r: 0.0 * r
    return ex.explore([model, other], catalog, beta, n_push=300)


def _widgets(w):
    "Every widget in the tree under w."
    yield w
    for c in getattr(w, "children", ()):
        yield from _widgets(c)


def _in_step(e) -> bool:
    "Every view shows the selected member, and the two t views the slider's t."
    return (all(v["member"] == e.member.value for v in e.last.values())
            and e.last["density"]["t"] == e.last["push"]["t"] == e.t.value)


def test_sliders_redraw_on_release(explorer):
    import ipywidgets as w
    sliders = [x for x in _widgets(explorer.widget) if isinstance(x, (w.FloatSlider, w.IntSlider))]
    assert sliders and all(s.continuous_update is False for s in sliders)
    shown = set(_widgets(explorer.widget))
    assert explorer.t in shown and explorer.member in shown and explorer.tab in shown


def test_views_in_step_with_controls(explorer):
    assert set(explorer.last) == set(ex.Explorer.VIEWS) and _in_step(explorer)
    png0 = dict(explorer.png)
    explorer.t.value = 0.4
    assert _in_step(explorer) and explorer.last["density"]["t"] == 0.4
    assert explorer.png["density"] != png0["density"] and explorer.png["Sigma"] == png0["Sigma"]  # only t views
    explorer.member.value = 1
    assert _in_step(explorer) and explorer.last["density"]["member"] == 1
    assert all(explorer.png[k] != png0[k] for k in ("Sigma", "Rv", "jeans", "member"))
    np.testing.assert_allclose(explorer.last["density"]["ln_n"],
                               np.asarray(ex.intermediate_log_density(explorer.models[1].flow, 0.4)[1]), rtol=1e-12)
    explorer.member.value, explorer.t.value = 0, 1.0
    assert _in_step(explorer)


def test_static_fallback_not_raw_repr(explorer):
    "Displayed, the explorer is the live widget plus six static views with alt texts and a note; never a raw repr."
    import re
    b = explorer._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in b
    assert not re.match(r"\s*(Tab|VBox|HBox)\(", b["text/plain"])
    imgs = re.findall(r'<img src="data:image/png;base64,[A-Za-z0-9+/=]+" alt="([^"]+)"', b["text/html"])
    assert len(imgs) == len(ex.Explorer.VIEWS) == 6 and all(len(a.split()) >= 6 for a in imgs)
    assert "needs a running Python kernel" in b["text/html"]


def _tick_labels(ax, which):
    "The visible tick labels (major and minor) of one axis of ax, inside its view limits."
    axis = ax.xaxis if which == "x" else ax.yaxis
    lo, hi = sorted(axis.get_view_interval())
    labels = axis.get_ticklabels() + axis.get_ticklabels(minor=True)
    k = 0 if which == "x" else 1
    return [t for t in labels if t.get_visible() and t.get_text() and lo <= t.get_position()[k] <= hi]


def _overlaps(fig) -> list[str]:
    """Text that collides: two tick labels of one axis, or a panel's labels (ticks, axis labels, title) with another
    panel or its labels; or text that leaves the figure."""
    fig.canvas.draw()
    rend = fig.canvas.get_renderer()
    axes, bad = fig.axes, []
    ticks = [{w: [t.get_window_extent(rend) for t in _tick_labels(a, w)] for w in "xy"} for a in axes]
    boxes = [ticks[i]["x"] + ticks[i]["y"] + [t.get_window_extent(rend) for t in (a.xaxis.label, a.yaxis.label, a.title)
                                              if t.get_visible() and t.get_text()] for i, a in enumerate(axes)]
    fb = fig.bbox
    for i, a in enumerate(axes):
        for w in "xy":
            tb = ticks[i][w]
            bad += [f"axes {i}: {w} tick labels {p} and {q} overlap" for p in range(len(tb)) for q in range(p)
                    if tb[p].overlaps(tb[q])]
        for bx in boxes[i]:
            if bx.x0 < fb.x0 - 1 or bx.x1 > fb.x1 + 1 or bx.y0 < fb.y0 - 1 or bx.y1 > fb.y1 + 1:
                bad.append(f"axes {i}: a label leaves the figure")
            for j, b in enumerate(axes):
                if j != i and (bx.overlaps(b.get_window_extent(rend)) or any(bx.overlaps(o) for o in boxes[j])):
                    bad.append(f"axes {i}: a label overlaps axes {j}")
    return bad


def test_figures_labels_do_not_overlap(explorer):
    """The pushforward figure (whose tick labels overlapped the other panel) and the other multi-panel views, on the
    explorer's members (compiled already)."""
    import matplotlib.pyplot as plt
    m = explorer.models[0]
    for fig in (ex.plot_pushforward(m.flow, 1.0, n=explorer.n_push), ex.plot_jeans_terms(explorer.terms[0], explorer.r),
                ex.plot_member(explorer.terms, explorer.r, 1), ex.plot_surface_density(m, explorer.catalog),
                ex.plot_flow_density(m.flow, (0.0, 1.0))):
        assert not _overlaps(fig), _overlaps(fig)
        plt.close(fig)
