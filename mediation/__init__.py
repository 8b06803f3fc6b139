"""The mediation domain: organisations, roster, cases, consents, lifecycle, deadlines and the audit trail."""
