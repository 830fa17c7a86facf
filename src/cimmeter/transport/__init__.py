"""cimmeter.transport (see DESIGN.md, Layers)."""
