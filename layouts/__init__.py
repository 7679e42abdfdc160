"""Declarative layout: ids, component factories, figures and the page."""
