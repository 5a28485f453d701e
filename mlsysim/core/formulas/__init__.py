"""Pure, unit-checked formulas (Quantities in, Quantities out; numpy arrays welcome).

Every function here is a ``@formula``: ``f(...)`` checks units and signs, ``f.raw(...)`` is the
fast path on magnitudes in the declared units. Convention: one multiply-accumulate (MAC) = 2 FLOPs.
Import the module you need (nothing is imported eagerly here):

- ``performance``: roofline (intensity, ridge point, throughput, times, bottleneck), MFU, HFU
- ``transformer``: forward FLOPs per token, parameter count (GQA, SwiGLU), KV cache, weight bytes
- ``training``: 6ND / 8ND, model-state memory (16 B/param Adam), time to train, Chinchilla
- ``scaling``: Amdahl, Gustafson, parallel efficiency
- ``queueing``: Little's law, M/M/1, Erlang C and M/M/c waiting time
- ``communication``: ring / tree all-reduce, ring all-gather (alpha-beta model)
- ``sustainability``: energy, duty-cycle power, operational and embodied carbon, energy cost
- ``reliability``: cluster MTBF, fleet failures, Young/Daly intervals, checkpoint goodput
- ``network``: propagation delay (light in fibre ~0.67 c), transmission delay
- ``serving``: prefill / decode-step FLOPs, tensor-parallel all-reduce, max batch (LLM serving)

The equations and sources are listed in ``docs/formulas.md``.
"""
