// The Conformance module (see DESIGN.md for its one job).
