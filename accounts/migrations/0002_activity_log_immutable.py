"""On PostgreSQL the admin activity log rejects UPDATE and DELETE in the database itself."""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION accounts_activity_log_immutable() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'accounts_adminactivitylog is immutable: % is not allowed', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER accounts_activity_log_no_update_delete
    BEFORE UPDATE OR DELETE ON accounts_adminactivitylog
    FOR EACH ROW EXECUTE FUNCTION accounts_activity_log_immutable();

CREATE TRIGGER accounts_activity_log_no_truncate
    BEFORE TRUNCATE ON accounts_adminactivitylog
    FOR EACH STATEMENT EXECUTE FUNCTION accounts_activity_log_immutable();
"""

DROP = """
DROP TRIGGER IF EXISTS accounts_activity_log_no_truncate ON accounts_adminactivitylog;
DROP TRIGGER IF EXISTS accounts_activity_log_no_update_delete ON accounts_adminactivitylog;
DROP FUNCTION IF EXISTS accounts_activity_log_immutable();
"""


def _run_on_postgresql(sql):
    # A plain cursor: the schema editor would read PL/pgSQL's '%' as a placeholder.
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            with schema_editor.connection.cursor() as cursor:
                cursor.execute(sql)

    return run


class Migration(migrations.Migration):
    dependencies = [("accounts", "0001_initial")]

    operations = [migrations.RunPython(_run_on_postgresql(CREATE), _run_on_postgresql(DROP))]
