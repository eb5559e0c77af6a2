"""The admin's name and role as they were, on each activity log entry; announcements.

Adding the columns is an ALTER TABLE, which the log's row triggers do not see.
Existing entries are not backfilled: an UPDATE would be refused by those
triggers, and rightly, so the pages show today's name for old entries instead.
"""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0002_activity_log_immutable'),
    ]

    operations = [
        migrations.AddField(
            model_name='adminactivitylog',
            name='admin_name',
            field=models.CharField(blank=True, default='', max_length=150),
        ),
        migrations.AddField(
            model_name='adminactivitylog',
            name='admin_role',
            field=models.CharField(blank=True, choices=[('superuser', 'Superuser'), ('admin', 'Admin'), ('user', 'User')], default='', max_length=20),
        ),
        migrations.CreateModel(
            name='Announcement',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('title', models.CharField(max_length=120)),
                ('message', models.TextField(max_length=1000)),
                ('level', models.CharField(choices=[('info', 'Info'), ('warning', 'Warning'), ('critical', 'Critical')], default='info', max_length=10)),
                ('sent_at', models.DateTimeField(default=django.utils.timezone.now)),
                ('author', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='announcements', to=settings.AUTH_USER_MODEL)),
            ],
            options={
                'ordering': ['-sent_at', '-id'],
            },
        ),
    ]
