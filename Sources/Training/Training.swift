// Module Training: see Package.swift for what lives here.
