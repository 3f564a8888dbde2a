// Module Evaluation: see Package.swift for what lives here.
