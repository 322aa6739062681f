// The KVM module (see DESIGN.md for its one job).
