"""Little's law, M/M/1 and M/M/c (Erlang C) against hand-computed values."""

from __future__ import annotations

import numpy as np
import pytest
from pint import DimensionalityError

from mlsysim.core.formulas import queueing as q
from mlsysim.core.units import Q_

PER_S = "1/s"


def test_littles_law_scalar_and_array():
    # 100 req/s * 0.2 s = 20 requests in the system
    assert q.littles_law(Q_(100, PER_S), Q_(200, "ms")).m_as("") == pytest.approx(20.0)
    result = q.littles_law(Q_([10, 100, 1000], PER_S), Q_(50, "ms"))
    np.testing.assert_allclose(result.m_as(""), [0.5, 5.0, 50.0])


def test_littles_law_errors():
    with pytest.raises(DimensionalityError, match="'time_in_system' of littles_law"):
        q.littles_law(Q_(1, PER_S), Q_(1, "m"))
    with pytest.raises(ValueError, match=r"'arrival_rate' of littles_law\(\) must be >= 0"):
        q.littles_law(Q_(-1, PER_S), Q_(1, "s"))


def test_mm1_wait_scalar():
    # lambda 8, mu 10: rho 0.8, Wq = 0.8 / (10 - 8) = 0.4 s
    assert q.mm1_wait(Q_(8, PER_S), Q_(10, PER_S)).m_as("s") == pytest.approx(0.4)


def test_mm1_wait_array_blows_up_near_saturation():
    # rho 0.5, 0.9, 0.99 with mu 1: Wq = rho / (1 - rho) = 1, 9, 99 s
    result = q.mm1_wait(Q_([0.5, 0.9, 0.99], PER_S), Q_(1, PER_S))
    np.testing.assert_allclose(result.m_as("s"), [1.0, 9.0, 99.0])


def test_mm1_wait_errors():
    with pytest.raises(DimensionalityError, match="'service_rate' of mm1_wait"):
        q.mm1_wait(Q_(1, PER_S), Q_(1, "s"))
    with pytest.raises(ValueError, match=r"'service_rate' of mm1_wait\(\) must be > 0"):
        q.mm1_wait(Q_(1, PER_S), Q_(0, PER_S))
    with pytest.raises(ValueError, match=r"utilisation ρ < 1 .* got ρ = 1\.2:"):
        q.mm1_wait(Q_(12, PER_S), Q_(10, PER_S))


def test_mm1_response_time():
    # W = 1 / (10 - 8) = 0.5 s = Wq 0.4 + service 0.1; array mu 1: 1/(1 - rho) = 2, 10, 100
    assert q.mm1_response_time(Q_(8, PER_S), Q_(10, PER_S)).m_as("s") == pytest.approx(0.5)
    result = q.mm1_response_time(Q_([0.5, 0.9, 0.99], PER_S), Q_(1, PER_S))
    np.testing.assert_allclose(result.m_as("s"), [2.0, 10.0, 100.0])
    with pytest.raises(DimensionalityError, match="'arrival_rate' of mm1_response_time"):
        q.mm1_response_time(Q_(1, "s"), Q_(2, PER_S))
    with pytest.raises(ValueError, match=r"mm1_response_time\(\) needs utilisation ρ < 1"):
        q.mm1_response_time(Q_(10, PER_S), Q_(10, PER_S))


def test_erlang_c_two_servers():
    # a = 1.5, c = 2: a^2/2! * c/(c-a) = 1.125 * 4 = 4.5; sum_{k<2} a^k/k! = 2.5 -> 4.5/7
    assert q.erlang_c(1.5, 2).m_as("") == pytest.approx(4.5 / 7)


def test_erlang_c_one_server_is_rho():
    # M/M/1: P(wait) = rho
    result = q.erlang_c(np.array([0.1, 0.5, 0.9]), 1)
    np.testing.assert_allclose(result.m_as(""), [0.1, 0.5, 0.9])


def test_erlang_c_errors():
    with pytest.raises(ValueError, match=r"'servers' of erlang_c\(\) must be a whole number"):
        q.erlang_c(1.0, 2.5)
    with pytest.raises(ValueError, match=r"'servers' of erlang_c\(\) must be a whole number >= 1"):
        q.erlang_c(1.0, 0)
    with pytest.raises(DimensionalityError, match="'offered_load' of erlang_c"):
        q.erlang_c(Q_(1, PER_S), 2)


def test_mmc_wait_one_server_equals_mm1():
    # c = 1 reduces to M/M/1: 0.4 s
    assert q.mmc_wait(Q_(8, PER_S), Q_(10, PER_S), 1).m_as("s") == pytest.approx(0.4)


def test_mmc_wait_scalar():
    # lambda 15, mu 10, c 2: C = 4.5/7 = 0.642857; Wq = 0.642857 / (20 - 15) = 0.128571 s
    result = q.mmc_wait(Q_(15, PER_S), Q_(10, PER_S), 2)
    assert result.m_as("s") == pytest.approx(4.5 / 7 / 5)


def test_mmc_wait_array_over_servers():
    # a = 1.5: c = 2 -> 0.128571 s (above)
    # c = 3: a^3/3! * 3/1.5 = 0.5625 * 2 = 1.125; sum = 1 + 1.5 + 1.125 = 3.625 -> C = 1.125/4.75
    #        Wq = 0.236842 / (30 - 15) = 0.0157895 s
    # c = 4: a^4/4! * 4/2.5 = 0.2109375 * 1.6 = 0.3375; sum = 3.625 + 0.5625 = 4.1875
    #        C = 0.3375 / 4.525 = 0.0745856; Wq = 0.0745856 / 25 = 0.00298343 s
    result = q.mmc_wait(Q_(15, PER_S), Q_(10, PER_S), np.array([2, 3, 4]))
    np.testing.assert_allclose(
        result.m_as("s"), [4.5 / 7 / 5, 1.125 / 4.75 / 15, 0.3375 / 4.525 / 25]
    )


def test_mmc_wait_errors():
    with pytest.raises(DimensionalityError, match="'service_rate' of mmc_wait"):
        q.mmc_wait(Q_(1, PER_S), Q_(1, "GB"), 2)
    with pytest.raises(ValueError, match=r"'servers' of mmc_wait\(\) must be a whole number >= 1"):
        q.mmc_wait(Q_(1, PER_S), Q_(1, PER_S), 0)
    with pytest.raises(ValueError, match=r"mmc_wait\(\) needs utilisation ρ < 1.*got ρ = 1.5"):
        q.mmc_wait(Q_(30, PER_S), Q_(10, PER_S), 2)


def test_raw_path():
    assert q.mm1_wait.raw(8.0, 10.0) == pytest.approx(0.4)
    assert q.mmc_wait.raw(15.0, 10.0, 2) == pytest.approx(4.5 / 7 / 5)
