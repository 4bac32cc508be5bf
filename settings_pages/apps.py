from django.apps import AppConfig


class SettingsPagesConfig(AppConfig):
    name = "settings_pages"
    verbose_name = "Settings pages"
