"""Pure, unit-checked formulas (Quantities in, Quantities out; numpy arrays welcome).

Every function here is a ``@formula``: ``f(...)`` checks units, ``f.raw(...)`` is the fast path on
magnitudes in the declared units. Convention: one multiply-accumulate (MAC) = 2 FLOPs.
"""
