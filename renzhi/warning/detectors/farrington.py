"""Farrington (1996) / Noufaily (2013) detection, R: ``surveillance::farringtonFlexible``.

For each time point ``k`` with ``b`` full years of history, a quasi-Poisson log-linear model is
fitted to the reference weeks and the current count is compared with an upper prediction bound.
This module fits ALL (series, k) models at once: with plain week numbers (R's ``sts`` without
dates, ``epochAsDate = FALSE``) the reference weeks sit at the same offsets from ``k`` for every
``k``, so every model has the same design matrix and only the responses differ. The design is
"one level per seasonal block (``noPeriods``) + optional linear trend"; ``intercept + treatment
dummies`` spans the same space as one indicator per block, so each weighted least-squares step of
IRLS has a closed form (block sums, then a within-block slope), O(n) per model. The IRLS follows
R's ``glm.fit`` step by step (start ``mu = y + 0.1``, deviance criterion ``1e-8``, at most 25
iterations, working weights, hat values, dispersion and standard errors from the last iteration's
weights), so the fitted values, dispersion and bounds agree with R to rounding.

Steps (R's ``farringtonFlexible`` / ``algo.farrington.glm``):

1. reference data: ``b`` past years, weeks ``k - i*freq ± w`` (block ``noPeriods``) and, when
   ``noPeriods > 1``, the weeks in between split into ``noPeriods - 1`` blocks (R's ``blocks``);
   the last ``past_weeks_not_included`` weeks before ``k`` and ``k`` itself are left out;
2. fit with trend; dispersion ``phi = max(1, Pearson X^2 / df)``;
3. ``reweight``: Anscombe residuals
   ``s_i = 3/2 (y^(2/3) mu^(-1/6) - mu^(1/2)) / sqrt(phi (1 - h_i))``;
   ``omega_i = gamma s_i^-2`` if ``s_i > weights_threshold`` else ``gamma``, with ``gamma`` making
   the weights sum to n; refit with these prior weights;
4. keep the trend only if ``b >= 3``, its p-value < ``p_threshold_trend`` and the prediction at
   ``k`` does not exceed the largest reference count; otherwise refit (steps 2-3) without trend;
5. threshold: "delta" (Farrington): ``U = (mu0^e + z sqrt(Var(mu0^e)))^(1/e)`` with ``e`` from
   ``power_trans`` and ``Var`` by the delta method with ``tau = phi + se(mu0)^2 / mu0``;
   "nbPlugin" (Noufaily): ``U`` = the ``1 - alpha`` quantile of a negative binomial with mean
   ``mu0`` and variance ``phi mu0``; "muan": the same with ``mu0`` replaced by the ``1 - alpha``
   quantile of its asymptotic log-normal distribution;
6. ``limit54 = (cases, period)``: no bound and no alarm if fewer than ``cases`` counts in the last
   ``period`` weeks (including ``k``); alarm when the score ``(y - pred) / (U - pred) > 1`` and
   ``y > 0`` (R computes ``pred`` on the link scale for nbPlugin/muan; kept for parity).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats
from scipy.stats import norm

from ._validate import (
    DetectorResult,
    FloatArray,
    as_counts,
    check_choice,
    check_int,
    check_probability,
    check_real,
    empty_result,
    finish,
)

POWER_TRANS = ("2/3", "1/2", "none")
THRESHOLD_METHODS = ("delta", "nbPlugin", "muan")
MAX_ITER = 25  # glm.control()$maxit
EPSILON = 1e-8  # glm.control()$epsilon
CHUNK_CELLS = 6_000_000  # models x reference weeks per batch (~50 MB per float array)


def farrington_flexible(
    counts: object,
    *,
    freq: int = 52,
    b: int = 5,
    w: int = 3,
    reweight: bool = True,
    weights_threshold: float = 2.58,
    alpha: float = 0.05,
    trend: bool = True,
    p_threshold_trend: float = 0.05,
    power_trans: str = "2/3",
    limit54: tuple[int, int] = (5, 4),
    past_weeks_not_included: int | None = None,
    no_periods: int = 1,
    threshold_method: str = "delta",
) -> DetectorResult:
    """Farrington/Noufaily over every series; evaluated from time ``freq * b + w`` (0-based) on."""
    spec = _Spec.build(
        freq=freq,
        b=b,
        w=w,
        reweight=reweight,
        weights_threshold=weights_threshold,
        alpha=alpha,
        trend=trend,
        p_threshold_trend=p_threshold_trend,
        power_trans=power_trans,
        limit54=limit54,
        past_weeks_not_included=past_weeks_not_included,
        no_periods=no_periods,
        threshold_method=threshold_method,
    )
    y, one_d = as_counts(counts)
    n_series, n_time = y.shape
    result = empty_result(y.shape)
    first = spec.span  # 0-based index of the first evaluated week
    if n_time <= first or n_series == 0:
        return finish(result, one_d)

    times = np.arange(first, n_time)
    design = _Design.build(spec)
    # every (series, time) pair is one model; batches of whole series keep memory bounded
    per_series = len(times) * len(design.offsets)
    step = max(1, CHUNK_CELLS // max(per_series, 1))
    for lo in range(0, n_series, step):
        hi = min(n_series, lo + step)
        _evaluate(y[lo:hi], times, spec, design, result, lo)
    return finish(result, one_d)


@dataclass(frozen=True)
class _Spec:
    freq: int
    b: int
    w: int
    reweight: bool
    weights_threshold: float
    alpha: float
    trend: bool
    p_threshold_trend: float
    power_trans: str
    cases: int
    period: int
    past_weeks: int
    no_periods: int
    threshold_method: str

    @property
    def span(self) -> int:
        return self.freq * self.b + self.w

    @classmethod
    def build(cls, **kw: object) -> _Spec:
        freq = check_int("freq", kw["freq"], 2)
        b = check_int("b", kw["b"], 1)
        w = check_int("w", kw["w"], 0)
        if 2 * w + 1 > freq:
            raise ValueError(f"w must be at most (freq - 1) / 2 = {(freq - 1) // 2}, got {w}")
        no_periods = check_int("no_periods", kw["no_periods"], 1)
        if no_periods > 1 and freq - 2 * w - 1 < no_periods - 1:
            raise ValueError(
                f"no_periods must be at most freq - 2*w = {freq - 2 * w}, got {no_periods}"
            )
        past = kw["past_weeks_not_included"]
        past_weeks = w if past is None else check_int("past_weeks_not_included", past, 0)
        if past_weeks >= freq * b:
            raise ValueError(
                f"past_weeks_not_included must be below freq * b = {freq * b}, got {past_weeks}"
            )
        limit = kw["limit54"]
        if not isinstance(limit, tuple | list) or len(limit) != 2:
            raise ValueError(f"limit54 must be a pair (cases, period), got {limit!r}")
        cases = check_int("limit54 cases", limit[0], 0)
        period = check_int("limit54 period", limit[1], 1)
        if period > freq * b + w + 1:
            raise ValueError(f"limit54 period must be at most freq * b + w + 1, got {period}")
        reweight, trend = kw["reweight"], kw["trend"]
        if not isinstance(reweight, bool | np.bool_):
            raise ValueError(f"reweight must be True or False, got {reweight!r}")
        if not isinstance(trend, bool | np.bool_):
            raise ValueError(f"trend must be True or False, got {trend!r}")
        weights_threshold = check_real("weights_threshold", kw["weights_threshold"])
        if weights_threshold <= 0:
            raise ValueError(f"weights_threshold must be > 0, got {weights_threshold}")
        p_trend = check_real("p_threshold_trend", kw["p_threshold_trend"])
        if not 0.0 <= p_trend <= 1.0:
            raise ValueError(f"p_threshold_trend must be in [0, 1], got {p_trend}")
        return cls(
            freq=freq,
            b=b,
            w=w,
            reweight=bool(reweight),
            weights_threshold=weights_threshold,
            alpha=check_probability("alpha", kw["alpha"]),
            trend=bool(trend),
            p_threshold_trend=p_trend,
            power_trans=check_choice("power_trans", kw["power_trans"], POWER_TRANS),
            cases=cases,
            period=period,
            past_weeks=past_weeks,
            no_periods=no_periods,
            threshold_method=check_choice(
                "threshold_method", kw["threshold_method"], THRESHOLD_METHODS
            ),
        )


@dataclass(frozen=True)
class _Design:
    """The reference weeks of one model, relative to the evaluated week ``k``.

    ``offsets`` (negative, ascending) are ``week - k``; they double as the centred trend covariate
    (R uses the week number; centring on ``k`` changes neither fitted values nor the slope).
    ``onehot`` maps each reference week to its block; ``current`` is the block of ``k``.
    """

    offsets: np.ndarray
    onehot: FloatArray
    current: int

    @classmethod
    def build(cls, spec: _Spec) -> _Design:
        labels = _blocks(spec)
        offsets = np.flatnonzero(~np.isnan(labels)) - spec.span
        present = labels[offsets + spec.span]
        levels = np.unique(present)
        onehot = (present[:, None] == levels[None, :]).astype(np.float64)
        n_params = len(levels) + (1 if spec.trend else 0)
        if len(offsets) <= n_params:
            raise ValueError(
                "past_weeks_not_included leaves too few reference weeks for the model "
                f"({len(offsets)} weeks, {n_params} parameters)"
            )
        current = int(np.flatnonzero(levels == spec.no_periods)[0])
        return cls(offsets=offsets, onehot=onehot, current=current)


def _r_seq(a: int, b: int) -> range:
    """R's ``a:b`` (counts down when ``a > b``)."""
    return range(a, b + 1) if a <= b else range(a, b - 1, -1)


def _blocks(spec: _Spec) -> FloatArray:
    """R's ``blocks()`` + ``blocksID`` for k = the last of ``span + 1`` weeks (1-based as R)."""
    k = spec.span + 1
    w, p = spec.w, spec.no_periods
    factors = np.full(k + 1, np.nan)  # index 0 unused; 1..k as in R
    for i in _r_seq(k - w, k):
        factors[i] = p
    reference = [k - i * spec.freq for i in range(spec.b + 1)]
    for i in range(1, spec.b + 1):
        ref = reference[i]
        for j in _r_seq(ref - w, ref + w):
            factors[j] = p
        if p != 1:
            period = reference[i - 1] - 2 * w - 1 - ref
            size, rest = divmod(period, p - 1)
            lengths = [size + (1 if j < rest else 0) for j in range(p - 1)]
            edges = np.concatenate([[0], np.cumsum(lengths)]).astype(int)
            for j in range(1, p):
                for pos in _r_seq(ref + w + 1 + edges[j - 1], ref + w + 1 + edges[j] - 1):
                    factors[pos] = j
    for i in _r_seq(k - spec.past_weeks, k):
        factors[i] = np.nan
    return factors[1:]


@dataclass
class _Fit:
    """One quasi-Poisson GLM per row, as R's glm.fit leaves it."""

    converged: np.ndarray  # (M,) bool
    mu: FloatArray  # (M, n) fitted values
    work: FloatArray  # (M, n) working weights of the last iteration (R's model$weights)
    level: FloatArray  # (M, q) block effects on the link scale at offset 0
    slope: FloatArray  # (M,) trend (0 without trend)
    sums: FloatArray  # (M, q) block sums of the working weights
    tbar: FloatArray  # (M, q) weighted mean offset per block
    ssw: FloatArray  # (M,) within-block weighted sum of squares of the offset (inf: no trend)
    dispersion: FloatArray  # (M,) Pearson X^2 / df (R's summary(model)$dispersion)
    df: FloatArray  # (M,) residual degrees of freedom
    # The dispersion R's later summary()/predict() calls see. fitGLM.flexible overwrites
    # model$weights (the working weights) with the prior weights omega after reweighting, so
    # these use sum(omega * ((y - mu) / mu)^2) / df; phi (the max(1, .) above) does not.
    se_dispersion: FloatArray


def _fit_glm(
    y: FloatArray, ylogy: FloatArray, prior: FloatArray | None, design: _Design, trend: bool
) -> _Fit:
    """R's glm.fit for the family quasipoisson(log), vectorised over rows.

    ``prior`` None means unit prior weights. Each IRLS step is three small matrix products: the
    block sums of the working weights (and of ``w t``, ``w t^2``), the block sums of ``w z`` (and
    ``w z t``), and the new linear predictor. Rows stop when R's deviance criterion holds; the
    still-running rows are compacted so finished models cost nothing.
    """
    t = design.offsets.astype(np.float64)
    g = design.onehot
    m_rows, n_obs = y.shape
    q = g.shape[1]
    if trend:
        basis_w = np.hstack([g, g * t[:, None], (t * t)[:, None]])
        basis_z = np.hstack([g, t[:, None]])
        basis_eta = np.vstack([g.T, t[None, :]])
    else:
        basis_w = basis_z = g
        basis_eta = g.T
    out = _Fit(
        converged=np.zeros(m_rows, dtype=bool),
        mu=np.empty_like(y),
        work=np.empty_like(y),
        level=np.full((m_rows, q), np.nan),
        slope=np.zeros(m_rows),
        sums=np.full((m_rows, q), np.nan),
        tbar=np.zeros((m_rows, q)),
        ssw=np.full(m_rows, np.inf),
        dispersion=np.full(m_rows, np.nan),
        df=np.zeros(m_rows),
        se_dispersion=np.full(m_rows, np.nan),
    )
    idx = np.arange(m_rows)
    ya = y
    pa = prior
    py = y if prior is None else prior * y
    const = (ylogy - y).sum(axis=1) if prior is None else (prior * (ylogy - y)).sum(axis=1)
    mu = y + 0.1
    eta = np.log(mu)
    devold = _deviance(const, py, pa, eta, mu)
    for _ in range(MAX_ITER):
        if idx.size == 0:
            break
        wa = mu if pa is None else pa * mu
        ws = wa @ basis_w
        wz = wa * (eta - 1.0)
        wz += py
        zs = wz @ basis_z
        s_g = ws[:, :q]
        with np.errstate(divide="ignore", invalid="ignore"):
            if trend:
                t_g = ws[:, q : 2 * q]
                tb = t_g / s_g
                ss = ws[:, 2 * q] - (t_g * tb).sum(axis=1)
                beta = (zs[:, q] - (zs[:, :q] * tb).sum(axis=1)) / ss
                lev = (zs[:, :q] - t_g * beta[:, None]) / s_g
                coef = np.hstack([lev, beta[:, None]])
            else:
                tb = None
                ss = None
                beta = None
                lev = zs / s_g
                coef = lev
        eta = coef @ basis_eta
        with np.errstate(over="ignore"):
            mu = np.exp(eta)
        dev = _deviance(const, py, pa, eta, mu)
        with np.errstate(invalid="ignore"):
            done = np.abs(dev - devold) / (0.1 + np.abs(dev)) < EPSILON
        # non-finite coefficients stop R's loop without convergence
        stop = done | ~np.all(np.isfinite(coef), axis=1)
        last = _ == MAX_ITER - 1
        if stop.any() or last:
            keep = np.zeros_like(stop) if last else ~stop
            fin = ~keep
            rows = idx[fin]
            out.converged[rows] = done[fin]
            out.mu[rows] = mu[fin]
            out.work[rows] = wa[fin]
            out.level[rows] = lev[fin]
            out.sums[rows] = s_g[fin]
            if trend:
                assert beta is not None and tb is not None and ss is not None
                out.slope[rows] = beta[fin]
                out.tbar[rows] = tb[fin]
                out.ssw[rows] = ss[fin]
            idx, ya, py, const = idx[keep], ya[keep], py[keep], const[keep]
            pa = None if pa is None else pa[keep]
            mu, eta, dev = mu[keep], eta[keep], dev[keep]
        devold = dev
    rank = q + (1 if trend else 0)
    n_ok = n_obs if prior is None else (prior > 0).sum(axis=1)
    out.df = np.asarray(n_ok - rank, dtype=np.float64) * np.ones(m_rows)
    with np.errstate(divide="ignore", invalid="ignore"):
        pearson = (out.work * ((y - out.mu) / out.mu) ** 2).sum(axis=1)
        out.dispersion = np.where(out.df > 0, pearson / out.df, np.nan)
    out.se_dispersion = out.dispersion
    return out


def _deviance(
    const: FloatArray, py: FloatArray, prior: FloatArray | None, eta: FloatArray, mu: FloatArray
) -> FloatArray:
    """Poisson deviance per row, 2 sum prior (y log(y/mu) - (y - mu)), from precomputed parts."""
    pmu = mu.sum(axis=1) if prior is None else np.einsum("ij,ij->i", prior, mu)
    return 2.0 * (const - np.einsum("ij,ij->i", py, eta) + pmu)


def _hat(fit: _Fit, design: _Design) -> FloatArray:
    """Diagonal of the hat matrix with the last iteration's working weights."""
    g = design.onehot
    with np.errstate(divide="ignore", invalid="ignore"):
        h = fit.work * ((1.0 / fit.sums) @ g.T)
        spread = design.offsets[None, :] - fit.tbar @ g.T
        h += fit.work * spread**2 / fit.ssw[:, None]
    return h


def _reweighted(y: FloatArray, ylogy: FloatArray, design: _Design, trend: bool, spec: _Spec):
    """R's algo.farrington.fitGLM.flexible for one formula: fit, weights, refit."""
    first = _fit_glm(y, ylogy, None, design, trend)
    if not spec.reweight:
        return first, first.converged
    phi = np.maximum(first.dispersion, 1.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        # y^(2/3) mu^(-1/6) via cube roots: same value, several times cheaper than pow()
        root_mu = np.sqrt(first.mu)
        s = 1.5 * (np.cbrt(y) ** 2 / np.sqrt(np.cbrt(first.mu)) - root_mu)
        s /= np.sqrt(phi[:, None] * (1.0 - _hat(first, design)))
        high = s > spec.weights_threshold
        inv = np.where(high, 1.0 / (s * s), 1.0)
        gamma = y.shape[1] / inv.sum(axis=1)
        omega = gamma[:, None] * inv
    omega = np.where(np.isfinite(omega), omega, 0.0)
    second = _fit_glm(y, ylogy, omega, design, trend)
    with np.errstate(divide="ignore", invalid="ignore"):
        pearson = (omega * ((y - second.mu) / second.mu) ** 2).sum(axis=1)
        second.se_dispersion = np.where(second.df > 0, pearson / second.df, np.nan)
    # R does not check the convergence of the reweighted fit
    return second, first.converged


def _predict(fit: _Fit, design: _Design) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Link-scale prediction at k (offset 0, current block), its standard error, the slope's p."""
    c = design.current
    eta0 = fit.level[:, c].copy()
    with np.errstate(divide="ignore", invalid="ignore"):
        var = 1.0 / fit.sums[:, c] + fit.tbar[:, c] ** 2 / fit.ssw
        se = np.sqrt(var * fit.se_dispersion)
        tval = fit.slope / np.sqrt(fit.se_dispersion / fit.ssw)
    pval = 2.0 * stats.t.sf(np.abs(tval), np.maximum(fit.df, 1))
    return eta0, se, pval


def _evaluate(
    y_int: np.ndarray,
    times: np.ndarray,
    spec: _Spec,
    design: _Design,
    result: DetectorResult,
    row0: int,
) -> None:
    n_series = y_int.shape[0]
    idx = times[:, None] + design.offsets[None, :]
    ref = y_int[:, idx].reshape(n_series * len(times), -1).astype(np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        ylogy = np.where(ref > 0, ref * np.log(ref), 0.0)
    m_rows = ref.shape[0]

    eta0 = np.full(m_rows, np.nan)
    se = np.full(m_rows, np.nan)
    phi = np.full(m_rows, np.nan)
    valid = np.zeros(m_rows, dtype=bool)
    need_plain = np.ones(m_rows, dtype=bool)
    if spec.trend:
        fit, ok = _reweighted(ref, ylogy, design, True, spec)
        e0, s0, pval = _predict(fit, design)
        with np.errstate(over="ignore"):
            extrapolates = np.exp(e0) > ref.max(axis=1)
        keep = ok & (spec.b >= 3) & (pval < spec.p_threshold_trend) & ~extrapolates
        eta0[keep], se[keep] = e0[keep], s0[keep]
        phi[keep] = np.maximum(fit.dispersion[keep], 1.0)
        valid |= keep
        need_plain = ~keep
    rows = np.flatnonzero(need_plain)
    if rows.size:
        sub, subylogy = ref[rows], ylogy[rows]
        fit, ok = _reweighted(sub, subylogy, design, False, spec)
        e0, s0, _ = _predict(fit, design)
        good = rows[ok]
        eta0[good], se[good] = e0[ok], s0[ok]
        phi[good] = np.maximum(fit.dispersion[ok], 1.0)
        valid[good] = True

    observed = y_int[:, times].reshape(-1).astype(np.float64)
    upper, score, expected = _threshold(eta0, se, phi, observed, spec)
    csum = np.concatenate([np.zeros((n_series, 1), dtype=np.int64), np.cumsum(y_int, axis=1)], 1)
    recent = (csum[:, times + 1] - csum[:, times + 1 - spec.period]).reshape(-1)
    enough = valid & (recent >= spec.cases)
    alarm = enough & ~np.isnan(score) & (score > 1) & (observed != 0)

    shape = (n_series, len(times))
    sl = (slice(row0, row0 + n_series), slice(int(times[0]), None))
    result.upperbound[sl] = np.where(enough, upper, np.nan).reshape(shape)
    result.alarm[sl] = alarm.reshape(shape)
    result.expected[sl] = np.where(enough & ~np.isnan(upper), expected, np.nan).reshape(shape)
    result.score[sl] = np.where(valid, score, np.nan).reshape(shape)


def _threshold(
    eta0: FloatArray, se_link: FloatArray, phi: FloatArray, y: FloatArray, spec: _Spec
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Upper bound, score and expected count (R's algo.farrington.threshold.*)."""
    z = float(norm.ppf(1.0 - spec.alpha))
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        if spec.threshold_method == "delta":
            mu0 = np.exp(eta0)
            se_mu = se_link * mu0
            tau = phi + se_mu**2 / mu0
            if spec.power_trans == "none":
                sd, e = np.sqrt(mu0 * tau), 1.0
            elif spec.power_trans == "1/2":
                sd, e = np.sqrt(0.25 * tau), 0.5
            else:
                sd, e = np.sqrt(4.0 / 9.0 * mu0 ** (1 / 3) * tau), 2.0 / 3.0
            low = np.power(mu0**e - z * sd, 1.0 / e)
            high = np.power(mu0**e + z * sd, 1.0 / e)
            # R: sort(c(low, high), na.last = FALSE)[2]
            upper = np.where(
                np.isnan(low), high, np.where(np.isnan(high), low, np.maximum(low, high))
            )
            score = (y - mu0) / (upper - mu0)
            return upper, score, mu0
        # nbPlugin plugs in the fitted mean; muan its (1 - alpha) quantile
        shift = 0.0 if spec.threshold_method == "nbPlugin" else z * se_link
        mu_q = np.exp(eta0 + shift)
        upper = np.full_like(eta0, np.nan)
        ok = np.isfinite(mu_q)
        nb = ok & (phi > 1)
        po = ok & ~(phi > 1)
        if nb.any():
            upper[nb] = stats.nbinom.ppf(1 - spec.alpha, mu_q[nb] / (phi[nb] - 1), 1 / phi[nb])
        if po.any():
            upper[po] = stats.poisson.ppf(1 - spec.alpha, mu_q[po])
        score = (y - eta0) / (upper - eta0)
        return upper, score, np.exp(eta0)
