"""cimmeter.runtime (see DESIGN.md, Layers)."""
