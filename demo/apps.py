from django.apps import AppConfig


class DemoConfig(AppConfig):
    """Demo data and benchmarks: no models, only the modules and the management commands."""

    name = "demo"
