// The GuestABI module (see DESIGN.md for its one job).
