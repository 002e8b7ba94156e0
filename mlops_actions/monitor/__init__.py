"""Monitoring the production model: decay, drift and the drift issue."""
