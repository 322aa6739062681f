// The HostRunner module (see DESIGN.md for its one job).
