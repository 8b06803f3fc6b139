"""Documents: frozen snapshots, rendering, signing, verification and service records."""
