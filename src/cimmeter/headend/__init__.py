"""cimmeter.headend (see DESIGN.md, Layers)."""
