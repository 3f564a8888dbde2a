// TUI: layout into a plain cell grid (testable without a terminal) plus one thin ncurses layer.
