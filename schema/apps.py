from django.apps import AppConfig


class SchemaConfig(AppConfig):
    """The GraphQL schema: a Django app for its management command (``exportschema``)."""

    name = "schema"
    verbose_name = "GraphQL schema"
