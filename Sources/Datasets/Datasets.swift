// Module Datasets: see Package.swift for what lives here.
