// Module TUI: see Package.swift for what lives here.
