from django.apps import AppConfig


class RealtimeConfig(AppConfig):
    name = "realtime"
    verbose_name = "Real-time"

    def ready(self):
        from realtime.capture import connect_capture

        connect_capture()
