"""cimmeter.xml (see DESIGN.md, Layers)."""
