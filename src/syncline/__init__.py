"""Syncline keeps Salesforce, an ERP and a billing platform in agreement across quote-to-cash."""

__version__ = "0.1.0"

__all__ = ["__version__"]
