// Module Geometry: see Package.swift for what lives here.
