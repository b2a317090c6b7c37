"""Synthetic data (C12): a seeded, calibrated county ("Wessex") and all England."""
