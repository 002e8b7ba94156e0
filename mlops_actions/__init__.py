"""GitHub Actions-native CI/CD for machine learning."""

__version__ = "0.1.0"
