"""cimmeter.model (see DESIGN.md, Layers)."""
