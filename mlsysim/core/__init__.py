"""The physics: units, sourced catalogs, formulas, scenarios and the engine."""
