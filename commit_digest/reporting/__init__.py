"""The nightly report job: collect → reconcile → render → deliver."""
