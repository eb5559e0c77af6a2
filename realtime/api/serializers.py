from rest_framework import serializers

from zora.api import BIGINT_MAX

MAX_CHANGES_PAGE = 1000


class ChangesQuerySerializer(serializers.Serializer):
    since = serializers.IntegerField(
        min_value=0, max_value=BIGINT_MAX, help_text="The last seq the client has seen (0 for none)."
    )
    limit = serializers.IntegerField(
        min_value=1, max_value=MAX_CHANGES_PAGE, default=100, help_text="Most events in this page."
    )


class ChangeSerializer(serializers.Serializer):
    seq = serializers.IntegerField()
    table = serializers.CharField()
    type = serializers.CharField(source="event_type", help_text="INSERT, UPDATE or DELETE.")
    record = serializers.JSONField(allow_null=True, help_text="The row after the change; null for DELETE.")
    old_record = serializers.JSONField(allow_null=True, help_text="The row before; null for INSERT.")
    commit_timestamp = serializers.DateTimeField()


class ChangesPageSerializer(serializers.Serializer):
    events = ChangeSerializer(many=True)
    next_since = serializers.IntegerField(help_text="Pass as `since` for the next page (or the next catch-up).")
    has_more = serializers.BooleanField(help_text="Whether more events are already waiting after this page.")
    high_water_seq = serializers.IntegerField(help_text="The newest seq when this page was read.")
    resync_required = serializers.BooleanField(
        help_text="The events after `since` are no longer kept: reload your state and continue from `high_water_seq`."
    )
