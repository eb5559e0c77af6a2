from django.db import models
from django.utils import timezone


class Event(models.Model):
    """One committed change of a published row: the outbox the relay publishes from.

    `id` is taken when the change is written, inside its transaction; `seq` is
    given by the relay after the commit and is the order every client sees and
    resumes from (see docs/realtime.md, "Event pipeline").

    A row of the reserved table ACCESS_TABLE is no change of a published row:
    it says that the access of the users in its audience changed (a token
    revoked, a session ended, an account suspended, a shop membership or an
    admin flag changed). It is numbered and handed out like any event, so every
    process's sockets learn of it in seq order, but no client is ever sent it:
    sockets that receive it read their identity again ("Access changes" in
    docs/realtime.md).
    """

    ACCESS_TABLE = "_access"

    class Type(models.TextChoices):
        INSERT = "INSERT"
        UPDATE = "UPDATE"
        DELETE = "DELETE"

    seq = models.BigIntegerField(null=True, blank=True, unique=True)
    table = models.CharField(max_length=40)
    type = models.CharField(max_length=6, choices=Type.choices)
    record = models.JSONField(null=True, blank=True)
    old_record = models.JSONField(null=True, blank=True)
    audience = models.JSONField(default=list, help_text="Audience groups: user.<id>, vendor.<id>, staff, public.")
    created_at = models.DateTimeField(default=timezone.now, help_text="When the change was written.")
    numbered_at = models.DateTimeField(
        null=True, blank=True, help_text="When the relay gave it a seq, after the commit: its commit timestamp."
    )
    published_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["id"], condition=models.Q(seq__isnull=True), name="rt_event_unnumbered_idx"),
            models.Index(
                fields=["seq"],
                condition=models.Q(seq__isnull=False, published_at__isnull=True),
                name="rt_event_unpublished_idx",
            ),
            models.Index(fields=["numbered_at"], name="rt_event_numbered_idx"),
        ]

    def __str__(self):
        return f"#{self.seq or '-'} {self.type} {self.table}"


class EventGroup(models.Model):
    """An event's place in one audience group's stream, written when it is numbered.

    Replays (a socket's `since`, REST catch-up) read this table by
    (group, seq), so a reader reads only what its groups may see.
    """

    # Pruning deletes these rows before their events, so deleting events needs no per-row cascade.
    event = models.ForeignKey(Event, on_delete=models.DO_NOTHING, related_name="groups")
    group = models.CharField(max_length=64)
    seq = models.BigIntegerField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["group", "seq"], name="rt_event_group_seq_unique")]
        indexes = [models.Index(fields=["seq"], name="rt_event_group_seq_idx")]

    def __str__(self):
        return f"{self.group} #{self.seq}"


class SeqCursor(models.Model):
    """The last seq given out, in the single row `STREAM`.

    Kept apart from the events so that pruning old events never lets a seq be
    given out twice.
    """

    STREAM = "*"

    stream = models.CharField(max_length=64, primary_key=True)
    last_seq = models.BigIntegerField()

    def __str__(self):
        return f"{self.stream} @ {self.last_seq}"
