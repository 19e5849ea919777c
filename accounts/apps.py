from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Customers and accounts"

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from .roles import roles_sync_after_migrate
        from .verbose_names import verbose_names_translate

        verbose_names_translate()

        # Later apps add models (and permissions) after the role migration ran: re-sync after every migrate.
        post_migrate.connect(roles_sync_after_migrate, dispatch_uid="accounts.roles_sync")
