"""cimmeter.message (see DESIGN.md, Layers)."""
