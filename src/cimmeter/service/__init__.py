"""cimmeter.service (see DESIGN.md, Layers)."""
