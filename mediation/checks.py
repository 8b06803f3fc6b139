"""System checks for the domain (registered in MediationConfig.ready)."""
