"""cimmeter.codes (see DESIGN.md, Layers)."""
