"""Shapes, evaluation ranges and refusals of the detectors library (no database, no R)."""

from __future__ import annotations

import numpy as np
import pytest

from renzhi.warning.detectors import DetectorResult, cusum, ears_c, farrington_flexible

RNG = np.random.default_rng(7)
DAILY = RNG.poisson(5.0, size=(4, 120))
WEEKLY = RNG.poisson(8.0, size=(3, 5 * 52 + 3 + 20))


def test_every_detector_returns_bounds_and_alarms_shaped_like_the_counts() -> None:
    for result in (
        ears_c(DAILY),
        ears_c(DAILY, method="C3"),
        cusum(DAILY),
        farrington_flexible(WEEKLY),
    ):
        assert isinstance(result, DetectorResult)
        assert result.upperbound.dtype == np.float64
        assert result.alarm.dtype == np.bool_
    assert ears_c(DAILY).upperbound.shape == DAILY.shape
    assert cusum(DAILY).alarm.shape == DAILY.shape
    assert farrington_flexible(WEEKLY).upperbound.shape == WEEKLY.shape


def test_a_one_dimensional_series_gives_one_dimensional_results() -> None:
    for fn, data in ((ears_c, DAILY), (cusum, DAILY), (farrington_flexible, WEEKLY)):
        one = fn(data[1])
        both = fn(data)
        assert one.upperbound.shape == data[1].shape
        assert one.alarm.shape == data[1].shape
        np.testing.assert_array_equal(one.upperbound, both.upperbound[1])
        np.testing.assert_array_equal(one.alarm, both.alarm[1])


@pytest.mark.parametrize(("method", "first"), [("C1", 7), ("C2", 9), ("C3", 11)])
def test_ears_leaves_points_without_enough_history_unevaluated(method: str, first: int) -> None:
    result = ears_c(DAILY, method=method)
    assert np.isnan(result.upperbound[:, :first]).all()
    assert not result.alarm[:, :first].any()
    assert np.isfinite(result.upperbound[:, first:]).all()


def test_ears_c1_bound_is_mean_plus_z_sd_of_the_previous_week() -> None:
    series = np.array([1, 2, 3, 4, 5, 6, 7, 30])
    result = ears_c(series, method="C1", baseline=7, alpha=0.001)
    window = series[:7]
    expected = window.mean() + 3.090232306167813 * window.std(ddof=1)
    assert result.upperbound[7] == pytest.approx(expected, rel=1e-12)
    assert result.alarm[7]


def test_ears_min_sigma_keeps_a_flat_history_from_alarming_on_one_case() -> None:
    flat = np.array([2] * 10 + [3])
    assert ears_c(flat).alarm[-1]
    assert not ears_c(flat, min_sigma=1.0).alarm[-1]


def test_cusum_skips_phase_one_and_uses_its_mean() -> None:
    result = cusum(DAILY, phase1=28)
    assert np.isnan(result.upperbound[:, :28]).all()
    assert not result.alarm[:, :28].any()
    np.testing.assert_allclose(result.expected[:, 28], DAILY[:, :28].mean(axis=1))


def test_cusum_accumulates_and_alarms_on_a_sustained_rise() -> None:
    series = np.array([4] * 28 + [4, 4, 8, 8, 8, 8])
    result = cusum(series, m=4.0, phase1=28)
    # (8 - 4) / sqrt(4) - 1.04 = 0.96 per day: 0.96, 1.92, then 2.88 >= h = 2.26
    assert not result.alarm[28:32].any()
    assert result.alarm[32:].all()
    np.testing.assert_allclose(result.score[30:33], [0.96, 1.92, 2.88])


def test_farrington_evaluates_from_b_years_plus_w_weeks() -> None:
    result = farrington_flexible(WEEKLY, b=5, w=3, limit54=(0, 4))
    first = 5 * 52 + 3
    assert np.isnan(result.upperbound[:, :first]).all()
    assert np.isfinite(result.upperbound[:, first:]).all()


def test_farrington_flags_a_large_outbreak_and_not_the_quiet_weeks() -> None:
    series = WEEKLY[0].copy()
    series[-1] = 60
    result = farrington_flexible(series)
    assert result.alarm[-1]
    assert result.alarm[5 * 52 + 3 : -1].mean() < 0.2


def test_farrington_limit54_silences_weeks_with_too_few_recent_cases() -> None:
    series = np.zeros(5 * 52 + 3 + 5, dtype=int)
    series[-1] = 3
    result = farrington_flexible(series, limit54=(5, 4))
    assert np.isnan(result.upperbound[-1])
    assert not result.alarm.any()


def test_short_series_are_returned_unevaluated() -> None:
    assert np.isnan(ears_c(np.arange(5)).upperbound).all()
    assert np.isnan(cusum(np.arange(20)).upperbound).all()
    assert np.isnan(farrington_flexible(np.arange(100)).upperbound).all()


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: ears_c(DAILY, alpha=0), "alpha must be in (0, 1)"),
        (lambda: ears_c(DAILY, alpha=1.5), "alpha must be in (0, 1)"),
        (lambda: ears_c(DAILY, baseline=2), "baseline must be >= 3"),
        (lambda: ears_c(DAILY, method="C4"), "method must be one of"),
        (lambda: ears_c(DAILY, min_sigma=-1), "min_sigma must be >= 0"),
        (lambda: cusum(DAILY, h=0), "h must be > 0"),
        (lambda: cusum(DAILY, trans="log"), "trans must be one of"),
        (lambda: cusum(DAILY, phase1=0), "phase1 must be >= 1"),
        (lambda: cusum(DAILY, m=-2.0), "m must be > 0"),
        (lambda: cusum(DAILY, m=[1.0, 2.0]), "m must be None, one number or one number"),
        (lambda: farrington_flexible(WEEKLY, alpha=0), "alpha must be in (0, 1)"),
        (lambda: farrington_flexible(WEEKLY, b=0), "b must be >= 1"),
        (lambda: farrington_flexible(WEEKLY, w=30), "w must be at most"),
        (lambda: farrington_flexible(WEEKLY, power_trans="1/3"), "power_trans must be one of"),
        (lambda: farrington_flexible(WEEKLY, threshold_method="x"), "threshold_method must be"),
        (lambda: farrington_flexible(WEEKLY, no_periods=60), "no_periods must be at most"),
        (lambda: farrington_flexible(WEEKLY, limit54=(5, 0)), "limit54 period must be >= 1"),
        (lambda: farrington_flexible(WEEKLY, limit54=(-1, 4)), "limit54 cases must be >= 0"),
        (lambda: farrington_flexible(WEEKLY, weights_threshold=0), "weights_threshold must be"),
        (lambda: farrington_flexible(WEEKLY, p_threshold_trend=2), "p_threshold_trend must be"),
        (
            lambda: farrington_flexible(WEEKLY, past_weeks_not_included=-1),
            "past_weeks_not_included must be >= 0",
        ),
    ],
)
def test_out_of_range_parameters_are_refused_by_name(call, message: str) -> None:
    with pytest.raises(ValueError) as err:
        call()
    assert message in str(err.value)


@pytest.mark.parametrize("fn", [ears_c, cusum, farrington_flexible])
@pytest.mark.parametrize(
    ("counts", "message"),
    [
        (np.array([[1, 2, -1, 4]]), "non-negative"),
        (np.array([1.0, np.nan, 3.0]), "NaN"),
        (np.array([1.0, np.inf]), "NaN or infinite"),
        (np.array([1.5, 2.0]), "whole numbers"),
        (np.array(["a", "b"]), "numeric"),
        (np.zeros((2, 2, 2)), "1-D or 2-D"),
        ([[1, 2], [3]], "rectangular"),
    ],
)
def test_bad_counts_are_refused_with_a_clear_message(fn, counts, message: str) -> None:
    with pytest.raises(ValueError, match="counts") as err:
        fn(counts)
    assert message in str(err.value)


def test_whole_number_floats_are_accepted_as_counts() -> None:
    as_float = ears_c(DAILY.astype(float))
    as_int = ears_c(DAILY)
    np.testing.assert_array_equal(as_float.upperbound, as_int.upperbound)


@pytest.mark.parametrize("scale", [1, 3_000_000_000])
def test_ears_matches_a_plain_loop_for_small_and_huge_counts(scale: int) -> None:
    # huge counts overflow int64 sums of squares and take the floating-point path
    counts = RNG.poisson(20.0, size=(2, 40)) * scale
    result = ears_c(counts, method="C2", baseline=5, alpha=0.01)
    z = 2.3263478740408408
    for t in range(7, 40):
        window = counts[:, t - 7 : t - 2].astype(float)
        expected = window.mean(axis=1) + z * window.std(axis=1, ddof=1)
        np.testing.assert_allclose(result.upperbound[:, t], expected, rtol=1e-12)


def test_farrington_gives_the_same_answer_whatever_the_batch_size(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from renzhi.warning.detectors import farrington

    whole = farrington_flexible(WEEKLY, no_periods=10, past_weeks_not_included=26)
    monkeypatch.setattr(farrington, "CHUNK_CELLS", 1)  # one series per batch
    batched = farrington_flexible(WEEKLY, no_periods=10, past_weeks_not_included=26)
    # Batching changes the order of BLAS sums, so bounds may differ in the last bit (5e-16 seen);
    # alarms must not differ at all.
    np.testing.assert_allclose(whole.upperbound, batched.upperbound, rtol=1e-12, equal_nan=True)
    np.testing.assert_array_equal(whole.alarm, batched.alarm)
