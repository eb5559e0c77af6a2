from django.contrib.auth.backends import ModelBackend


class ActiveAccountBackend(ModelBackend):
    """Refuses suspended users at sign-in and on every request of an existing session:
    `get_user` also asks `user_can_authenticate`, so a suspension ends open sessions at once."""

    def user_can_authenticate(self, user):
        return super().user_can_authenticate(user) and not getattr(user, "is_suspended", False)
