// Module KP2D: see Package.swift for what lives here.
