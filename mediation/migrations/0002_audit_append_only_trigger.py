"""On PostgreSQL, refuse UPDATE and DELETE of audit events in the database itself, so a stray script or
a console session cannot rewrite the trail through the ORM or raw SQL (the hash chain still detects
anyone who disables the trigger first)."""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION mediation_audit_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'audit events are append-only (%% refused)', TG_OP USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER mediation_audit_append_only
    BEFORE UPDATE OR DELETE ON mediation_auditevent
    FOR EACH ROW EXECUTE FUNCTION mediation_audit_append_only();
"""
DROP = """
DROP TRIGGER IF EXISTS mediation_audit_append_only ON mediation_auditevent;
DROP FUNCTION IF EXISTS mediation_audit_append_only();
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("mediation", "0001_initial")]
    operations = [migrations.RunPython(forwards, backwards)]
