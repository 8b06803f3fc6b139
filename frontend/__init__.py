"""The mobile-first web client: templates, CSS and ES modules. No business rules."""
