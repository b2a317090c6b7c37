"""Domain modules: benchmarking, contracts, journeys, experience, economics."""
