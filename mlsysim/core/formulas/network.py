"""Network latency terms: propagation (speed of light in the medium) and transmission.

Light in silica fibre travels at about c / 1.47 ~= 0.67 c (group index ~1.47 at 1550 nm;
ITU-T G.652 single-mode fibre), i.e. ~4.9 us per km.
"""

from __future__ import annotations

from mlsysim.core.formulas._formula import formula, require_range

SPEED_OF_LIGHT = 299_792_458.0
"""c in m/s (exact, SI definition of the metre)."""


@formula("s", non_negative=("distance",), distance="m", velocity_factor="")
def propagation_delay(distance, velocity_factor=0.67):
    """One-way propagation delay t = d / (v_f * c) [s]; v_f ~= 0.67 for optical fibre.

    Velocity factor in (0, 1]: 1 for vacuum/radio, ~0.67 for fibre, ~0.6-0.8 for copper.
    """
    require_range(
        velocity_factor, "velocity_factor", "propagation_delay", low=0.0, high=1.0, low_open=True
    )
    return distance / (velocity_factor * SPEED_OF_LIGHT)


@formula(
    "s",
    positive=("bandwidth",),
    non_negative=("message_bytes",),
    message_bytes="byte",
    bandwidth="byte/s",
)
def transmission_delay(message_bytes, bandwidth):
    """Serialisation delay t = n / beta [s]: time to push n bytes onto a link of bandwidth beta.

    The beta term of Hockney's alpha-beta model (Hockney 1994, Parallel Computing 20(3)).
    """
    return message_bytes / bandwidth
