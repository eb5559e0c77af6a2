from django.db import migrations


def drop_group_cursors(apps, schema_editor):
    """Groups no longer have cursors of their own: only the whole stream's row is kept."""
    SeqCursor = apps.get_model("realtime", "SeqCursor")
    SeqCursor.objects.exclude(stream="*").delete()


class Migration(migrations.Migration):
    dependencies = [
        ("realtime", "0001_initial"),
    ]

    operations = [
        migrations.RemoveField(model_name="eventgroup", name="prev_seq"),
        migrations.RunPython(drop_group_cursors, migrations.RunPython.noop),
    ]
